"""The bridge with `on_resolve: edit` and `forum: true` against the Discord fake: the group state comes from the
real outbox (SQLite, and PostgreSQL for the restart), the retries from the real dispatcher."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app import create_app
from bridge.load import config_from_mapping
from tests.bridge.helpers import eventually
from tests.bridge.sample_alerts import alert, payload
from tests.fakes.discord import FakeDiscord, running

RESOLVED_GREEN = 0x2EB67D


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with running(FakeDiscord()) as fake:
        yield fake


def settings(tmp_path: Path, discord: FakeDiscord, database_url: str | None = None, **entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "dedup_window": 0,  # reminders are the same body again
        "outbox": {"backoff_initial": "50ms", "backoff_max": "200ms"},
        "receivers": {"ops": {"discord": [{"webhook_url": discord.url(), **entry}]}},
    }
    if database_url:
        data["database_url"] = database_url
    return data


@contextlib.asynccontextmanager
async def bridge(data: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config_from_mapping(data, {}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
            await eventually(lambda: ready(client), what="the outbox open")
            yield client


async def ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def notify(client: httpx.AsyncClient, *alerts: dict[str, Any]) -> None:
    response = await client.post("/alertmanager/ops", json=payload(*alerts))
    assert response.status_code == 200 and response.json()["status"] == "accepted"


async def all_sent(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    """Waits until `count` deliveries exist and are all sent; returns them."""

    async def rows() -> list[dict[str, Any]]:
        listed = (await client.get("/api/notifications")).json()["notifications"]
        return [d for n in listed for d in n["deliveries"]]

    async def done() -> bool:
        found = await rows()
        return len(found) == count and all(d["state"] == "sent" for d in found)

    await eventually(done, what=f"{count} deliveries sent")
    return await rows()


def group(count: int, status: str = "firing") -> list[dict[str, Any]]:
    return [alert(status=status, labels={"instance": f"web-{i}"}, fingerprint=f"fp{i}") for i in range(count)]


def colours(message: dict[str, Any]) -> set[int]:
    return {embed["color"] for embed in message["embeds"]}


async def test_discord_resolve_across_a_restart_edits_the_message_posted_before_it(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, discord: FakeDiscord
) -> None:
    url = request.getfixturevalue("postgres").create_database() if store == "postgresql" else None
    data = settings(tmp_path, discord, url, on_resolve="edit")
    async with bridge(data) as client:
        await notify(client, alert())
        await all_sent(client, 1)
    [posted] = discord.stored.values()
    async with bridge(data) as client:  # a new process: the message id can only come from the store
        await notify(client, alert(status="resolved"))
        await all_sent(client, 2)
    assert len(discord.messages) == 1 and [m for m, _ in discord.edits] == [posted["id"]]
    assert colours(discord.stored[posted["id"]]) == {RESOLVED_GREEN}


async def test_discord_resolve_429_during_the_edits_is_waited_out_and_nothing_is_redone(
    tmp_path: Path, discord: FakeDiscord
) -> None:
    async with bridge(settings(tmp_path, discord, on_resolve="edit")) as client:
        await notify(client, *group(25))
        await all_sent(client, 1)
        discord.at_request = {discord.requests + 2: 429}  # the second of the three edits
        await notify(client, *group(25, "resolved"))
        rows = await all_sent(client, 2)
    assert len(discord.messages) == 3 and sorted(m for m, _ in discord.edits) == sorted(discord.stored)
    assert all(colours(m) == {RESOLVED_GREEN} for m in discord.stored.values())
    assert [row["attempts"] for row in rows if row["state"] == "sent"] == [2, 1]  # newest first


async def test_discord_resolve_of_300_alerts_edits_every_message_and_posts_none(
    tmp_path: Path, discord: FakeDiscord
) -> None:
    async with bridge(settings(tmp_path, discord, on_resolve="edit")) as client:
        await notify(client, *group(300))
        await all_sent(client, 1)
        posted = len(discord.messages)
        await notify(client, *group(300, "resolved"))
        await all_sent(client, 2)
    assert posted >= 30 and len(discord.messages) == posted and len(discord.edits) == posted
    assert discord.rejected == [] and sum(len(m["embeds"]) for m in discord.stored.values()) == 300
    assert all(colours(m) == {RESOLVED_GREEN} for m in discord.stored.values())


async def test_discord_forum_through_the_bridge_one_post_per_group(tmp_path: Path, discord: FakeDiscord) -> None:
    discord.make_forum()
    async with bridge(settings(tmp_path, discord, forum=True, on_resolve="edit")) as client:
        await notify(client, alert())
        memory = {**alert("HostMemoryPressure", severity="warning"), "fingerprint": "mem"}
        response = await client.post("/alertmanager/ops", json=payload(memory, groupKey='{}:{alertname="Mem"}'))
        assert response.status_code == 200
        await notify(client, alert())  # a reminder: a new message in the post
        await notify(client, alert(status="resolved"))  # edits the reminder, in the post
        await all_sent(client, 4)
    assert len(discord.threads) == 2
    [disk_post] = [t for t, name in discord.thread_names.items() if "HostDiskAlmostFull" in name]
    [mem_post] = [t for t in discord.threads if t != disk_post]
    assert [colours(m) for m in discord.in_channel(disk_post)] == [{0xE01E5A}, {RESOLVED_GREEN}]
    assert len(discord.in_channel(mem_post)) == 1 and len(discord.edits) == 1
