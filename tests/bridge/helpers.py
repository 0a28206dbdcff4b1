"""Shared pieces of the bridge tests: an in-test channel, a config; sample webhook bodies and waiting from testkit."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from bridge.alertmanager import notification_from_webhook
from bridge.channels import Attempt, SendError
from bridge.config import BridgeConfig, OutboxConfig, ReceiverConfig
from bridge.notification import Notification
from testkit.alertmanager import FIRING, webhook
from testkit.processes import python_module
from testkit.waiting import eventually

__all__ = [
    "FIRING",
    "FakeChannel",
    "eventually",
    "make_config",
    "notification",
    "retryable",
    "start_with_config",
    "webhook",
]


def notification(n: int = 0, receiver: str = "default") -> Notification:
    return notification_from_webhook(webhook(n), receiver)


def make_config(data_dir: Path, *, receivers: tuple[str, ...] = ("default",), **outbox: object) -> BridgeConfig:
    settings = {"backoff_initial": 0.01, "backoff_max": 0.05, "busy_timeout": 0.2, **outbox}
    return BridgeConfig(
        receivers={name: ReceiverConfig(name) for name in receivers},
        outbox=OutboxConfig(data_dir=data_dir, **settings),  # type: ignore[arg-type]
    )


class FakeChannel:
    """Records what it sends; raises the scripted errors first, one per attempt (None means succeed)."""

    def __init__(self, name: str = "fake", target: str = "fake:room", errors: list[Exception | None] | None = None):
        self.name = name
        self.target = target
        self.errors = list(errors or [])
        self.sent: list[Notification] = []
        self.skipped: list[frozenset[int]] = []  # the parts each attempt was told to leave out
        self.attempts = 0

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        skip_parts = attempt.parts if attempt else frozenset()
        self.attempts += 1
        self.skipped.append(skip_parts)
        await asyncio.sleep(0)
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error
        self.sent.append(notification)


def retryable(reason: str = "http_500", retry_after: float | None = None) -> SendError:
    return SendError(f"server said no ({reason})", retryable=True, reason=reason, retry_after=retry_after)


def start_with_config(config_yaml: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bridge --config.file` on this YAML, with a clean environment: for the exit-2 checks at start."""
    path = tmp_path / "bridge.yml"
    path.write_text(config_yaml, encoding="utf-8")
    return subprocess.run(
        python_module("bridge", "--config.file", str(path)),
        env={"PATH": "/usr/bin:/bin", "BRIDGE_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=30,
    )
