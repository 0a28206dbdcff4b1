"""Discord edit in place (`on_resolve: edit`), threads and forum posts: the channel against the Discord fake,
with the group state in memory, then the whole bridge with its outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from allim.secret import Secret
from bridge.channels import Attempt, SendError
from bridge.channels.discord.channel import DiscordChannel
from bridge.channels.discord.config import DiscordConfig
from bridge.config import Formatting
from bridge.notification import Notification
from tests.bridge.sample_alerts import alert, many, notification
from tests.fakes.discord import FakeDiscord, running

RESOLVED_GREEN = 0x2EB67D


class GroupMemory:
    """Attempts of one channel instance that share each group's state across notifications, as the outbox does
    (the state goes through JSON, as it does there)."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    def attempt(self, notification: Notification, part_info: dict[int, dict[str, Any]] | None = None) -> Attempt:
        memory, key = self.states, notification.group_key

        class Remembering(Attempt):
            async def group_state(self) -> dict[str, Any] | None:
                return json.loads(memory[key]) if key in memory else None

            async def set_group_state(self, data: dict[str, Any]) -> None:
                memory[key] = json.dumps(data)

        return Remembering(part_info=part_info)

    def state(self, notification: Notification) -> dict[str, Any]:
        return json.loads(self.states[notification.group_key])


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with running(FakeDiscord()) as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def channel(fake: FakeDiscord, client: httpx.AsyncClient, **config: Any) -> DiscordChannel:
    return DiscordChannel(DiscordConfig(webhook_url=Secret(fake.url()), **config), client, Formatting())


def colours(message: dict[str, Any]) -> list[int]:
    return [embed["color"] for embed in message["embeds"]]


def field(embed: dict[str, Any], name: str) -> str | None:
    return next((f["value"] for f in embed["fields"] if f["name"] == name), None)


async def test_discord_edit_turns_the_firing_message_green_in_place(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    ch, memory = channel(fake, client, on_resolve="edit", mention_role_id="42"), GroupMemory()
    firing, resolved = notification(alert()), notification(alert(status="resolved"))
    await ch.send(firing, memory.attempt(firing))
    [posted] = fake.stored.values()
    assert posted["content"] == "<@&42>" and colours(posted) == [0xE01E5A]
    await ch.send(resolved, memory.attempt(resolved))
    assert len(fake.messages) == 1 and list(fake.stored) == [posted["id"]]  # no second post
    [(edited_id, body)] = fake.edits
    assert edited_id == posted["id"] and body["allowed_mentions"] == {"parse": []} and "username" not in body
    now = fake.stored[posted["id"]]
    assert colours(now) == [RESOLVED_GREEN] and now["content"] == "" and now["edited_timestamp"]
    embed = now["embeds"][0]
    assert embed["title"] == "[RESOLVED] HostDiskAlmostFull — web-1"
    assert field(embed, "Ended") == "2026-01-01 10:30:00 UTC" and field(embed, "Fired for") == "29m 59s"
    assert memory.state(resolved)["messages"] == [{"id": posted["id"], "channel_id": fake.channel_of()}]


async def test_discord_edit_partial_then_full_resolve(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    ch, memory = channel(fake, client, on_resolve="edit"), GroupMemory()
    web1, web2 = alert(fingerprint="a1"), alert(labels={"instance": "web-2"}, fingerprint="a2")
    resolved = {**web2, "status": "resolved", "endsAt": "2026-01-01T10:30:00Z"}
    for n in (
        notification(web1, web2),
        notification(web1, resolved),  # some alerts resolved: the group is still firing
        # Alertmanager leaves web-2 out once its resolve was sent; the message keeps showing it resolved
        notification({**web1, "status": "resolved", "endsAt": "2026-01-01T11:00:00Z"}),
    ):
        await ch.send(n, memory.attempt(n))
    [message] = fake.stored.values()
    assert len(fake.messages) == 1 and [m for m, _ in fake.edits] == [message["id"]] * 2
    partial = fake.edits[0][1]
    assert [e["title"] for e in partial["embeds"]] == [
        "[CRITICAL] HostDiskAlmostFull — web-1",
        "[RESOLVED] HostDiskAlmostFull — web-2",
    ]
    assert [e["title"] for e in message["embeds"]] == [
        "[RESOLVED] HostDiskAlmostFull — web-1",
        "[RESOLVED] HostDiskAlmostFull — web-2",
    ]
    assert colours(message) == [RESOLVED_GREEN, RESOLVED_GREEN]


async def test_discord_edit_reminder_posts_new_and_the_resolve_edits_the_latest(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    ch, memory = channel(fake, client, on_resolve="edit"), GroupMemory()
    firing, resolved = notification(alert()), notification(alert(status="resolved"))
    for n in (firing, firing, resolved):
        await ch.send(n, memory.attempt(n))
    first, reminder = fake.stored.values()
    assert len(fake.messages) == 2 and [m for m, _ in fake.edits] == [reminder["id"]]
    assert colours(first) == [0xE01E5A] and colours(reminder) == [RESOLVED_GREEN]


async def test_discord_edit_posts_anew_when_the_message_was_deleted(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    ch, memory = channel(fake, client, on_resolve="edit"), GroupMemory()
    firing, resolved = notification(alert()), notification(alert(status="resolved"))
    await ch.send(firing, memory.attempt(firing))
    fake.delete_message(next(iter(fake.stored)))
    await ch.send(resolved, memory.attempt(resolved))
    [message] = fake.stored.values()
    assert fake.edits == [] and len(fake.messages) == 2 and colours(message) == [RESOLVED_GREEN]
    assert fake.messages[1]["allowed_mentions"] == {"parse": []}
    assert memory.state(resolved)["messages"] == [{"id": message["id"], "channel_id": fake.channel_of()}]


async def test_discord_edit_posts_the_parts_that_do_not_fit_and_deletes_those_left_over(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    ch, memory = channel(fake, client, on_resolve="edit"), GroupMemory()
    small = notification(*(alert(labels={"instance": f"web-{i}"}, fingerprint=f"f{i}") for i in range(5)))
    await ch.send(small, memory.attempt(small))
    grown = many(25, status="resolved")  # more alerts than one message holds: two more messages
    await ch.send(grown, memory.attempt(grown))
    assert len(fake.edits) == 1 and len(fake.messages) == 3
    assert sum(len(m["embeds"]) for m in fake.stored.values()) == 30  # web-0..4 (f0..f4) and fp0..fp24
    assert len(memory.state(grown)["messages"]) == 3
    # a state with more messages than the group's current state needs: the extra one is deleted
    extra = httpx.post(fake.url(), params={"wait": "true"}, json={"content": "left over"}).json()
    state = memory.state(grown)
    state["messages"].append({"id": extra["id"], "channel_id": extra["channel_id"]})
    memory.states[grown.group_key] = json.dumps(state)
    await ch.send(grown, memory.attempt(grown))
    assert extra["id"] not in fake.stored and len(fake.stored) == 3 and len(memory.state(grown)["messages"]) == 3


async def test_discord_edit_retry_after_a_429_does_not_redo_finished_parts(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    ch, memory = channel(fake, client, on_resolve="edit"), GroupMemory()
    firing, resolved = many(25), many(25, status="resolved")
    await ch.send(firing, memory.attempt(firing))
    fake.at_request = {fake.requests + 2: 429}  # the second edit
    attempt = memory.attempt(resolved)
    with pytest.raises(SendError) as caught:
        await ch.send(resolved, attempt)
    assert caught.value.retryable and caught.value.retry_after == 0.3 and caught.value.delivered_parts == {0}
    await ch.send(resolved, memory.attempt(resolved, part_info=attempt.part_info))
    assert sorted(m for m, _ in fake.edits) == sorted(fake.stored) and len(fake.edits) == 3
    assert len(fake.messages) == 3 and all(
        colours(m) == [RESOLVED_GREEN] * len(m["embeds"]) for m in fake.stored.values()
    )


async def test_discord_edit_in_a_configured_thread(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    thread = fake.add_thread(name="alerts")
    ch, memory = channel(fake, client, on_resolve="edit", thread_id=thread), GroupMemory()
    firing, resolved = notification(alert()), notification(alert(status="resolved"))
    await ch.send(firing, memory.attempt(firing))
    await ch.send(resolved, memory.attempt(resolved))
    [message] = fake.in_channel(thread)
    assert fake.in_channel(fake.channel_of()) == [] and len(fake.edits) == 1 and colours(message) == [RESOLVED_GREEN]


async def test_discord_thread_that_is_gone_is_a_final_error(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    with pytest.raises(SendError) as caught:
        await channel(fake, client, thread_id="123456").send(notification())
    assert not caught.value.retryable and str(caught.value) == "discord answered 404: Unknown Channel (code 10003)"


async def test_discord_forum_one_post_per_group_holding_every_later_notification(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    fake.make_forum()
    ch, memory = channel(fake, client, forum=True), GroupMemory()
    disk = [notification(alert()), notification(alert()), notification(alert(status="resolved"))]
    other = notification(alert("HostMemoryPressure", severity="warning"), groupKey='{}:{alertname="Memory"}')
    for n in (disk[0], other, *disk[1:]):
        await ch.send(n, memory.attempt(n))
    assert set(fake.threads) == {memory.state(disk[0])["thread_id"], memory.state(other)["thread_id"]}
    assert len(fake.threads) == 2
    post = memory.state(disk[0])["thread_id"]
    assert fake.thread_names[post] == "[CRITICAL] HostDiskAlmostFull — web-1"
    assert [colours(m) for m in fake.in_channel(post)] == [[0xE01E5A], [0xE01E5A], [RESOLVED_GREEN]]
    assert [("thread_name" in m) for m in fake.messages] == [True, True, False, False]


async def test_discord_forum_with_edit_edits_inside_the_post(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.make_forum()
    ch, memory = channel(fake, client, forum=True, on_resolve="edit"), GroupMemory()
    firing, resolved = many(12), many(12, status="resolved")
    await ch.send(firing, memory.attempt(firing))
    await ch.send(resolved, memory.attempt(resolved))
    [post] = fake.threads
    assert len(fake.in_channel(post)) == 2 and len(fake.messages) == 2 and len(fake.edits) == 2
    assert all(set(colours(m)) == {RESOLVED_GREEN} for m in fake.in_channel(post))


async def test_discord_forum_post_that_was_deleted_is_made_again(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.make_forum()
    ch, memory = channel(fake, client, forum=True, on_resolve="edit"), GroupMemory()
    firing, resolved = many(12), many(12, status="resolved")
    await ch.send(firing, memory.attempt(firing))
    [old] = fake.threads
    fake.delete_thread(old)
    await ch.send(resolved, memory.attempt(resolved))
    [new] = fake.threads
    assert new != old and memory.state(resolved)["thread_id"] == new
    assert [len(m["embeds"]) for m in fake.in_channel(new)] == [10, 2] and fake.edits == []
    assert all(set(colours(m)) == {RESOLVED_GREEN} for m in fake.in_channel(new))


async def test_discord_forum_post_name_is_cut_to_100_characters(fake: FakeDiscord, client: httpx.AsyncClient) -> None:
    fake.make_forum()
    await channel(fake, client, forum=True).send(notification(alert(labels={"instance": "x" * 300})))
    [name] = fake.thread_names.values()
    assert len(name) == 100 and name.endswith("…") and fake.rejected == []


async def test_discord_forum_post_after_a_crash_goes_into_the_post_already_made(
    fake: FakeDiscord, client: httpx.AsyncClient
) -> None:
    fake.make_forum()
    ch, memory = channel(fake, client, forum=True), GroupMemory()
    group = many(25)
    fake.at_request = {2: 500}
    attempt = memory.attempt(group)
    with pytest.raises(SendError):
        await ch.send(group, attempt)
    memory.states.clear()  # as if the state write had been lost with the process: the part knows its post
    await ch.send(group, Attempt(part_info=attempt.part_info))
    [post] = fake.threads
    assert [len(m["embeds"]) for m in fake.in_channel(post)] == [10, 10, 5]


def test_discord_fake_follows_discords_forum_rules(fake: FakeDiscord) -> None:
    body = {"content": "x"}
    plain = httpx.post(fake.url(), params={"wait": "true"}, json={**body, "thread_name": "t"})
    assert (plain.status_code, plain.json()["code"]) == (400, 220003)
    fake.make_forum()
    bare = httpx.post(fake.url(), params={"wait": "true"}, json=body)
    assert (bare.status_code, bare.json()["code"]) == (400, 220001)
    made = httpx.post(fake.url(), params={"wait": "true"}, json={**body, "thread_name": "incident"}).json()
    assert made["channel_id"] == made["id"] and set(made) >= {"id", "channel_id", "webhook_id", "content", "embeds"}
    both = httpx.post(fake.url(), params={"wait": "true", "thread_id": made["id"]}, json={**body, "thread_name": "t"})
    assert (both.status_code, both.json()["code"]) == (400, 220002)
    messages = f"{fake.url()}/messages/{made['id']}"
    assert httpx.get(messages).json()["code"] == 10008  # in a thread: found only with its thread_id
    assert httpx.get(messages, params={"thread_id": made["id"]}).json()["content"] == "x"
    assert httpx.get(messages, params={"thread_id": "1"}).json()["code"] == 10003
    cleared = httpx.patch(messages, params={"thread_id": made["id"]}, json={"content": None})
    assert (cleared.status_code, cleared.json()["errors"]) == (400, ["Cannot send an empty message"])
    assert httpx.delete(messages, params={"thread_id": made["id"]}).status_code == 204
    assert httpx.get(messages, params={"thread_id": made["id"]}).status_code == 404
