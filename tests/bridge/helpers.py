"""Shared pieces of the bridge tests: an in-test channel, a config, sample webhook bodies."""

from __future__ import annotations

import asyncio
import copy
import inspect
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bridge.alertmanager import Notification
from bridge.channels import Attempt, SendError
from bridge.config import BridgeConfig, OutboxConfig, ReceiverConfig
from tests.support import python_module

# A real Alertmanager 0.25 body (upstream/local-stack.md §3).
FIRING = {
    "receiver": "hook",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "E2ETextfileToggle", "instance": "127.0.0.1:51739", "job": "node"},
            "annotations": {"summary": "toggle=1 on 127.0.0.1:51739"},
            "startsAt": "2026-11-28T18:39:02.51Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:42257/graph?g0.expr=e2e_probe_toggle+%3E+0&g0.tab=1",
            "fingerprint": "68151c67d99c963b",
        }
    ],
    "groupLabels": {"alertname": "E2ETextfileToggle"},
    "commonLabels": {"alertname": "E2ETextfileToggle", "instance": "127.0.0.1:51739", "job": "node"},
    "commonAnnotations": {"summary": "toggle=1 on 127.0.0.1:51739"},
    "externalURL": "http://127.0.0.1:37833",
    "version": "4",
    "groupKey": '{}:{alertname="E2ETextfileToggle"}',
    "truncatedAlerts": 0,
}


def webhook(n: int = 0, status: str = "firing") -> dict[str, object]:
    """The real body, made distinct by `n` (its own fingerprint and groupKey)."""
    body = copy.deepcopy(FIRING)
    body["status"] = status
    body["groupKey"] = f'{{}}:{{alertname="Probe{n}"}}'
    alert = body["alerts"][0]  # type: ignore[index]
    alert.update(status=status, fingerprint=f"fp{n:014d}")
    alert["labels"] = {**alert["labels"], "alertname": f"Probe{n}"}
    if status == "resolved":
        alert["endsAt"] = "2026-11-28T18:39:04.51Z"
    return body


def notification(n: int = 0, receiver: str = "default") -> Notification:
    return Notification.from_webhook(webhook(n), receiver)


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


async def eventually(
    predicate: Callable[[], object | Awaitable[object]], timeout: float = 10.0, what: str = ""
) -> object:
    """Poll `predicate` (sync or async) until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or 'the condition'}")
        await asyncio.sleep(0.02)


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
