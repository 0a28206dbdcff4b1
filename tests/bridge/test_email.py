"""EmailChannel against aiosmtpd on 127.0.0.1: STARTTLS + AUTH, implicit TLS, plain, and the failure table."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from allim.secret import Secret
from bridge.channels import SendError
from bridge.channels.email.channel import EmailChannel
from bridge.channels.email.config import EmailConfig
from bridge.channels.email.format import build_message, list_id, thread_root_id
from bridge.config import Formatting
from tests.bridge.sample_alerts import alert, notification
from tests.support import free_port

PASSWORD = "s3cret-pw"


@dataclass
class Inbox:
    """aiosmtpd handler: keeps each mail with how it arrived; `fail_next` answers DATA with a 451 first."""

    mails: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 Try again later"
        self.mails.append(
            {
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "auth": session.authenticated,
                "rcpt_tos": envelope.rcpt_tos,
                "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
            }
        )
        return "250 Message accepted for delivery"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"bridge",
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)  # handled=False, or no 535 reply (G9)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


def serve(inbox: Inbox, **kwargs: Any) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def starttls_server(inbox: Inbox, tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[Controller]:
    yield from serve(
        inbox, tls_context=tls[0], require_starttls=True, authenticator=authenticator, auth_require_tls=True
    )


@pytest.fixture
def plain_server(inbox: Inbox) -> Iterator[Controller]:
    yield from serve(inbox)


def starttls_channel(server: Controller, client_ctx: ssl.SSLContext, password: str = PASSWORD) -> EmailChannel:
    config = EmailConfig(
        host="127.0.0.1",
        port=server.port,
        from_addr="alerts@example.test",
        to=("oncall@example.test", "ops@example.test"),
        username="bridge",
        password=Secret(password),
        timeout=5,
    )
    return EmailChannel(config, Formatting(), ssl_context=client_ctx)


def plain_channel(port: int, **overrides: Any) -> EmailChannel:
    config = EmailConfig(host="127.0.0.1", port=port, from_addr="a@x.test", to=("b@x.test",), tls="none", timeout=5)
    return EmailChannel(config, Formatting(**overrides))


async def test_email_sends_over_starttls_with_auth(
    starttls_server: Controller, inbox: Inbox, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    channel = starttls_channel(starttls_server, tls[1])
    assert channel.name == "email" and channel.target == "email:oncall@example.test,ops@example.test"
    await channel.send(notification(alert(), alert(labels={"instance": "web-2"}), alert(labels={"instance": "web-3"})))
    [mail] = inbox.mails
    assert mail["tls"] and mail["auth"] and mail["rcpt_tos"] == ["oncall@example.test", "ops@example.test"]
    message: EmailMessage = mail["message"]
    assert message["Subject"] == "[CRITICAL] HostDiskAlmostFull — web-1 (+2 more)"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


async def test_email_sends_over_implicit_tls(inbox: Inbox, tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    for server in serve(inbox, ssl_context=tls[0]):
        config = EmailConfig(host="127.0.0.1", port=server.port, from_addr="a@x.test", to=("b@x.test",), tls="implicit")
        await EmailChannel(config, Formatting(), ssl_context=tls[1]).send(notification())
    assert [m["tls"] for m in inbox.mails] == [True]


async def test_email_sends_plain_to_a_local_relay(plain_server: Controller, inbox: Inbox) -> None:
    await plain_channel(plain_server.port, language="ko", timezone="Asia/Seoul").send(notification())
    [mail] = inbox.mails
    assert not mail["tls"] and not mail["auth"]
    text = mail["message"].get_body(("plain",)).get_content()
    assert "상태: 발생 중\n심각도: 긴급\n" in text and "시작: 2026-01-01 19:00:00 KST\n" in text


async def test_email_bad_password_is_final_and_secret(
    starttls_server: Controller, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    wrong = "wrong-pw-123"
    with pytest.raises(SendError) as caught:
        await starttls_channel(starttls_server, tls[1], password=wrong).send(notification())
    assert not caught.value.retryable and caught.value.reason == "smtp_535"
    assert wrong not in str(caught.value) and PASSWORD not in str(caught.value)


async def test_email_server_down_is_retryable() -> None:
    with pytest.raises(SendError) as caught:
        await plain_channel(free_port()).send(notification())
    assert caught.value.retryable and caught.value.reason == "network"


async def test_email_temporary_failure_is_retryable_then_succeeds(plain_server: Controller, inbox: Inbox) -> None:
    inbox.fail_next = 1
    channel = plain_channel(plain_server.port)
    with pytest.raises(SendError) as caught:
        await channel.send(notification())
    assert caught.value.retryable and caught.value.reason == "smtp_451"
    await channel.send(notification())
    assert len(inbox.mails) == 1


async def test_email_untrusted_certificate_is_final(starttls_server: Controller) -> None:
    with pytest.raises(SendError) as caught:
        await starttls_channel(starttls_server, ssl.create_default_context()).send(notification())
    assert not caught.value.retryable and caught.value.reason == "tls"


async def test_email_no_header_injection_and_escaped_html(plain_server: Controller, inbox: Inbox) -> None:
    hostile = alert(
        labels={"instance": "web-1\r\nBcc: victim@example.test", "team": "@everyone"},
        annotations={"summary": "<script>alert(1)</script>", "description": "a\r\nX-Injected: 1"},
    )
    await plain_channel(plain_server.port).send(notification(hostile))
    [mail] = inbox.mails
    message: EmailMessage = mail["message"]
    assert mail["rcpt_tos"] == ["b@x.test"] and message["Bcc"] is None and message["X-Injected"] is None
    assert message["Subject"] == "[CRITICAL] HostDiskAlmostFull — web-1 Bcc: victim@example.test"
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_email_threading_headers_join_firing_and_resolved() -> None:
    config = EmailConfig(host="127.0.0.1", port=25, from_addr="a@x.test", to=("b@x.test",))
    firing = build_message(notification(alert()), config, Formatting())
    again = build_message(notification(alert()), config, Formatting())
    resolved = build_message(notification(alert(status="resolved")), config, Formatting())
    other = build_message(notification(alert(), groupKey='{}:{alertname="Other"}'), config, Formatting())
    root = thread_root_id(notification(alert()))
    assert root.startswith("<") and root.endswith("@allim>")
    for msg in (firing, again, resolved):
        assert msg["In-Reply-To"] == root and msg["References"] == root
    assert other["References"] != root
    assert len({firing["Message-ID"], again["Message-ID"], resolved["Message-ID"]}) == 3
    assert resolved["Subject"] == "[RESOLVED] HostDiskAlmostFull — web-1"


def test_email_channel_repr_hides_password() -> None:
    config = EmailConfig(host="h", port=25, from_addr="a@x", to=("b@x",), username="u", password=Secret(PASSWORD))
    channel = EmailChannel(config, Formatting())
    assert PASSWORD not in repr(channel) and PASSWORD not in repr(config)


async def test_email_list_id_and_receiver_headers_for_mail_rules(plain_server: Controller, inbox: Inbox) -> None:
    await plain_channel(plain_server.port).send(notification(alert()))
    message: EmailMessage = inbox.mails[0]["message"]
    assert message["List-Id"] == "<ops.allim>" and message["X-Allim-Receiver"] == "ops"
    assert message["In-Reply-To"] == thread_root_id(notification(alert()))  # the threading stays


def test_email_list_id_is_a_valid_list_label_for_any_receiver_name() -> None:
    assert list_id("team-kr.db_1") == "<team-kr.db_1.allim>"
    assert list_id("a b<c>") == "<a-b-c-.allim>" and list_id("") == "<receiver.allim>"
