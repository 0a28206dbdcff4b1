"""The bridge with its real channels against a Discord fake and aiosmtpd: faults lose nothing, send nothing twice."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app import create_app
from bridge.load import config_from_mapping
from tests.bridge.helpers import eventually, webhook
from tests.fakes.discord import FakeDiscord
from tests.fakes.smtp import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server(Mailbox()) as served:
        yield served


@contextlib.asynccontextmanager
async def bridge(tmp_path: Path, discord: FakeDiscord, smtp_port: int) -> AsyncIterator[httpx.AsyncClient]:
    env = {
        "DISCORD_WEBHOOK_URL": discord.url(),
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TLS": "none",
        "SMTP_FROM": "allim@example.test",
        "EMAIL_TO": "oncall@example.test",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
    }
    config = config_from_mapping({"outbox": {"backoff_initial": "50ms", "backoff_max": "200ms"}}, env)
    app = create_app(config)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
            yield client


async def deliveries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    notifications = (await client.get("/api/notifications")).json()["notifications"]
    return [delivery for notification in notifications for delivery in notification["deliveries"]]


async def all_sent(client: httpx.AsyncClient, count: int = 2) -> None:
    """Every delivery (Discord and email, `count` in all) marked sent in the outbox.

    The positive event behind "nothing more was sent": a worker marks a row sent only after the attempt that
    delivered it, and never picks a sent row again; a duplicate would have to be another row, which `count`
    would show."""

    async def done() -> bool:
        rows = await deliveries(client)
        return len(rows) == count and all(row["state"] == "sent" for row in rows)

    await eventually(done, what=f"{count} deliveries marked sent")
    assert len(await deliveries(client)) == count


async def test_faults_discord_429_waits_retry_after_then_delivers_once(tmp_path, discord, mailbox) -> None:
    discord.rate_limit_next = 1  # answers 429 with retry_after 0.3
    async with bridge(tmp_path, discord, mailbox[1]) as client:
        started = time.monotonic()
        assert (await client.post("/alertmanager/default", json=webhook(1))).status_code == 200
        await eventually(lambda: discord.messages, what="the Discord message")
        waited = time.monotonic() - started
        await all_sent(client)
    assert len(discord.messages) == 1 and discord.requests == 2
    assert waited >= 0.3  # Discord's retry_after, not the 50 ms backoff


async def test_faults_discord_500_then_success_delivers_once(tmp_path, discord, mailbox) -> None:
    discord.fail_next = 2
    async with bridge(tmp_path, discord, mailbox[1]) as client:
        assert (await client.post("/alertmanager/default", json=webhook(2))).status_code == 200
        await eventually(lambda: discord.messages, what="the Discord message")
        await all_sent(client)
    assert (len(discord.messages), discord.requests) == (1, 3)


async def test_faults_smtp_temporary_failure_then_success_delivers_once(tmp_path, discord, mailbox) -> None:
    box, port = mailbox
    box.temporary_failures = 2
    async with bridge(tmp_path, discord, port) as client:
        assert (await client.post("/alertmanager/default", json=webhook(3))).status_code == 200
        await eventually(lambda: box.messages, what="the mail")
        await all_sent(client)
    assert (len(box.messages), box.attempts) == (1, 3)


async def test_faults_same_webhook_twice_is_delivered_once(tmp_path, discord, mailbox) -> None:
    box, port = mailbox
    async with bridge(tmp_path, discord, port) as client:
        for _ in range(2):
            assert (await client.post("/alertmanager/default", json=webhook(4))).status_code == 200
        await eventually(lambda: discord.messages and box.messages, what="both channels")
        await all_sent(client)
    assert (len(discord.messages), len(box.messages)) == (1, 1)


def big_group(count: int) -> dict[str, Any]:
    body = webhook(5)
    template = body["alerts"][0]  # type: ignore[index]
    alerts = []
    for i in range(count):
        alert = copy.deepcopy(template)
        alert["fingerprint"] = f"{i:016x}"
        alert["labels"] = {**alert["labels"], "instance": f"host-{i}", "severity": "critical"}
        alert["annotations"] = {"summary": f"disk almost full on host-{i}", "description": "x" * 500}
        alerts.append(alert)
    body["alerts"] = alerts
    return body


async def test_faults_group_of_300_alerts_is_delivered_whole_and_never_rejected(tmp_path, discord, mailbox) -> None:
    box, port = mailbox
    async with bridge(tmp_path, discord, port) as client:
        assert (await client.post("/alertmanager/default", json=big_group(300))).status_code == 200
        await eventually(lambda: sum(len(m["embeds"]) for m in discord.messages) >= 300, what="300 embeds")
        await eventually(lambda: box.messages, what="the mail")
        await all_sent(client)
    assert discord.rejected == []
    assert sum(len(m["embeds"]) for m in discord.messages) == 300
    assert len(box.messages) == 1
    assert "(+299 more)" in str(box.messages[0]["Subject"])


async def test_faults_hostile_label_text_pings_nobody_and_injects_nothing(tmp_path, discord, mailbox) -> None:
    box, port = mailbox
    body = webhook(6)
    alert = body["alerts"][0]  # type: ignore[index]
    alert["labels"] = {**alert["labels"], "instance": "web-1\r\nBcc: attacker@evil.test", "team": "@everyone"}
    alert["annotations"] = {"summary": "<script>alert(1)</script> @everyone <@&123>"}
    async with bridge(tmp_path, discord, port) as client:
        assert (await client.post("/alertmanager/default", json=body)).status_code == 200
        await eventually(lambda: discord.messages and box.messages, what="both channels")
    message = discord.messages[0]
    assert message["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in message.get("content", "")
    mail = box.messages[0]
    assert mail["Bcc"] is None and "\n" not in str(mail["Subject"]) and "\r" not in str(mail["Subject"])
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_faults_a_backlog_drains_at_discords_pace_without_a_429(tmp_path, discord, mailbox) -> None:
    discord.bucket, discord.bucket_window = 5, 0.5  # Discord's webhook bucket, ten times as fast
    async with bridge(tmp_path, discord, mailbox[1]) as client:
        started = time.monotonic()
        for n in range(20):
            assert (await client.post("/alertmanager/default", json=webhook(100 + n))).status_code == 200
        await all_sent(client, count=40)  # 20 to Discord, 20 by mail
        elapsed = time.monotonic() - started
    assert len(discord.messages) == 20 and discord.requests == 20  # not one request answered 429
    assert elapsed >= 3 * 0.5  # 20 messages, 5 per window: three full windows waited at least
