"""An SMTP server for tests: aiosmtpd on a free 127.0.0.1 port, keeping every mail it accepts.

    with smtp_server(Mailbox()) as (mailbox, port):
        ...  # mailbox.messages, mailbox.subjects(); mailbox.temporary_failures = 2 answers DATA 451 twice first

(tests/bridge/test_email.py has its own handler: it also records TLS and authentication per mail.)
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
from collections.abc import Iterator
from typing import Any

from aiosmtpd.controller import Controller

from testkit.processes import free_port


class Mailbox:
    """aiosmtpd handler: answers the scripted temporary failures first, then keeps every message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.temporary_failures = 0
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.attempts += 1
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox, host: str = "127.0.0.1") -> Iterator[tuple[Mailbox, int]]:
    """The mailbox served over plain SMTP on a free port of `host`, stopped on the way out."""
    controller = Controller(mailbox, hostname=host, port=free_port(host))
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()
