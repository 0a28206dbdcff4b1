"""DiscordChannel against a real HTTP fake of Discord's webhook endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from allim.secret import Secret
from bridge.channels import Attempt, SendError
from bridge.channels.discord import channel as discord_channel
from bridge.channels.discord.channel import DiscordChannel
from bridge.channels.discord.config import DiscordConfig
from bridge.config import Formatting
from tests.bridge.helpers import eventually
from tests.bridge.sample_alerts import alert, many, notification
from tests.fakes.discord import FakeDiscord, payload_errors, running
from tests.support import free_port

TOKEN = "s3cr3t-token"


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with running(FakeDiscord(webhooks={"1234": TOKEN})) as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def channel(fake: FakeDiscord, client: httpx.AsyncClient, **config: str) -> DiscordChannel:
    url = f"{fake.base}/api/webhooks/1234/{TOKEN}"
    return DiscordChannel(DiscordConfig(webhook_url=Secret(url), **config), client, Formatting())


async def test_discord_posts_one_message_with_safe_mentions(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    hostile = alert(labels={"team": "@everyone <@123>"}, annotations={"summary": "@here <script>"})
    await channel(fake, client).send(notification(hostile))
    [message] = fake.messages
    assert message["allowed_mentions"] == {"parse": []} and "content" not in message
    assert message["embeds"][0]["title"] == "[CRITICAL] HostDiskAlmostFull — web-1"


async def test_discord_target_hides_token(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    ch = channel(fake, client)
    assert ch.name == "discord" and ch.target == "discord:webhooks/1234/***"
    assert TOKEN not in repr(ch)


async def test_discord_delivers_300_alerts_without_rejection(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    await channel(fake, client).send(many(300))
    assert len(fake.messages) >= 30 and fake.rejected == []
    assert sum(len(m["embeds"]) for m in fake.messages) == 300


async def test_discord_paces_on_empty_bucket(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.bucket, fake.bucket_window = 5, 0.2
    await channel(fake, client).send(many(100))
    assert len(fake.messages) == 10 and fake.requests == 10


class LimitsSeen(Attempt):
    def __init__(self, seen: list[tuple[int, float]]) -> None:
        super().__init__()
        self.seen = seen

    async def limited(self, remaining: int, reset_after: float) -> None:
        self.seen.append((remaining, reset_after))


async def test_discord_tells_the_attempt_what_is_left_of_the_bucket(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    fake.bucket, fake.bucket_window = 3, 10.0
    seen: list[tuple[int, float]] = []
    for n in range(3):
        await channel(fake, client).send(notification(alert(labels={"instance": f"web-{n}"})), LimitsSeen(seen))
    assert [remaining for remaining, _ in seen] == [2, 1, 0]
    assert all(9 < reset_after <= 10 for _, reset_after in seen)


async def test_discord_429_is_retryable_with_retry_after_from_body(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    fake.rate_limit_next = 1
    ch = channel(fake, client)
    with pytest.raises(SendError) as caught:
        await ch.send(notification())
    assert caught.value.retryable and caught.value.reason == "rate_limited" and caught.value.retry_after == 0.3
    await ch.send(notification())
    assert len(fake.messages) == 1


async def test_discord_500_is_retryable(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.fail_next = 1
    ch = channel(fake, client)
    with pytest.raises(SendError) as caught:
        await ch.send(notification())
    assert caught.value.retryable and caught.value.reason == "http_500"
    await ch.send(notification())
    assert len(fake.messages) == 1


async def test_discord_404_is_final_and_leaks_no_token(
    fake: FakeDiscord, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.webhooks = {"999": TOKEN}
    with pytest.raises(SendError) as caught:
        await channel(fake, client).send(notification())
    error = caught.value
    assert not error.retryable and error.reason == "http_404"
    assert str(error) == "discord answered 404: Unknown Webhook (code 10015)"
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("uvicorn")]  # uvicorn logs the fake's side
    assert any("/api/webhooks/1234/***" in m for m in ours)
    assert all(TOKEN not in m for m in ours)


async def test_discord_401_for_a_wrong_token_is_final(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.webhooks = {"1234": "another-token"}
    with pytest.raises(SendError) as caught:
        await channel(fake, client).send(notification())
    assert not caught.value.retryable and caught.value.reason == "http_401"
    assert TOKEN not in str(caught.value) and "another-token" not in str(caught.value)


async def test_discord_400_is_final_with_discords_reason(
    fake: FakeDiscord, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord_channel, "discord_messages", lambda *args: [{"content": "x" * 2001}])
    with pytest.raises(SendError) as caught:
        await channel(fake, client).send(notification())
    assert not caught.value.retryable and caught.value.reason == "http_400"
    assert str(caught.value).startswith("discord answered 400: Invalid Form Body (code 50035) ")
    assert "content: Must be 2000 or fewer in length." in str(caught.value)


async def test_discord_network_errors_are_retryable(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/webhooks/1234/{TOKEN}"
    ch = DiscordChannel(DiscordConfig(webhook_url=Secret(url)), client, Formatting())
    with pytest.raises(SendError) as caught:
        await ch.send(notification())
    assert caught.value.retryable and caught.value.reason == "network"
    assert TOKEN not in str(caught.value) and "127.0.0.1" not in str(caught.value)


async def test_discord_timeout_is_retryable(fake: FakeDiscord) -> None:
    fake.delay = 0.5
    async with httpx.AsyncClient(timeout=0.1) as client:
        with pytest.raises(SendError) as caught:
            await channel(fake, client).send(notification())
    assert caught.value.retryable and caught.value.reason == "timeout"


async def test_discord_held_request_answered_503_is_retryable_and_unrecorded(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    fake.hold()
    sending = asyncio.create_task(channel(fake, client).send(notification()))
    await eventually(lambda: fake.waiting == 1, what="the held request")
    fake.release()
    with pytest.raises(SendError) as caught:
        await sending
    assert caught.value.retryable and caught.value.reason == "http_503" and fake.messages == []


async def test_discord_retry_skips_parts_already_delivered(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    ch = channel(fake, client)
    group = many(25)  # three messages
    fake.at_request = {2: 429, 4: 500}  # the second message runs into a 429, then into a 500
    with pytest.raises(SendError) as caught:
        await ch.send(group)
    assert caught.value.delivered_parts == {0} and caught.value.retry_after == 0.3
    delivered = caught.value.delivered_parts
    with pytest.raises(SendError) as caught:
        await ch.send(group, Attempt(parts=delivered))
    assert caught.value.delivered_parts == {0, 1} and caught.value.reason == "http_500"
    await ch.send(group, Attempt(parts=caught.value.delivered_parts))
    assert [len(m["embeds"]) for m in fake.messages] == [10, 10, 5]


async def test_discord_skip_parts_resumes_after_restart(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    await channel(fake, client).send(many(25), Attempt(parts=frozenset({0, 1})))
    assert [len(m["embeds"]) for m in fake.messages] == [5]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "Cannot send an empty message"),
        ({"content": "x", "username": "My Discord Bot"}, 'username: Username cannot contain "discord"'),
        ({"embeds": [{"title": "x"}] * 11}, "embeds: Must be 10 or fewer in length."),
        ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title: Must be 256 or fewer in length."),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
            "embeds.0.fields: Must be 25 or fewer in length.",
        ),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            "embeds.0.field_value.0: Must be 1024 or fewer in length.",
        ),
        (
            {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
            "embeds: Embed size exceeds maximum size of 6000",
        ),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer: Must be 2048 or fewer in length."),
    ],
)
def test_discord_fake_rejects_what_discord_rejects(body: dict[str, object], error: str) -> None:
    assert error in payload_errors(body)
