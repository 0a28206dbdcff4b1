import asyncio
import sqlite3

import pytest

from bridge.alertmanager import notification_from_webhook
from bridge.outbox import ChannelRef, Outbox, OutboxError
from bridge.store.sqlite import MIGRATIONS, SqliteDatabase
from tests.bridge.conftest import Clock, make_database, opened
from tests.bridge.helpers import notification, webhook

REFS = [ChannelRef("default/discord/0", "discord", "discord:…/1"), ChannelRef("default/email/0", "email", "email:a@x")]


@pytest.fixture
async def outbox(store, request, tmp_path):
    database = make_database(store, request, tmp_path, busy_timeout=0.1)
    async with opened(Outbox(database, max_pending=10, clock=Clock())) as box:
        yield box


@pytest.fixture
async def sqlite_outbox(tmp_path):
    database = SqliteDatabase(tmp_path / "outbox.sqlite3", busy_timeout=0.1)
    async with opened(Outbox(database, max_pending=10, clock=Clock())) as box:
        yield box


async def test_outbox_enqueue_creates_one_pending_delivery_per_channel(outbox):
    notification_id = await outbox.enqueue(notification(1), REFS, 300)
    assert notification_id == 1
    assert outbox.pending == {"discord": 1, "email": 1}
    delivery = await outbox.next_delivery("default/discord/0")
    assert delivery.notification == notification(1)
    assert delivery.attempts == 0


async def test_outbox_recognises_duplicates_within_the_window(outbox):
    assert await outbox.enqueue(notification(1), REFS, 300) is not None
    assert await outbox.enqueue(notification(1), REFS, 300) is None
    assert await outbox.enqueue(notification(2), REFS, 300) is not None
    outbox.clock.now += 301
    assert await outbox.enqueue(notification(1), REFS, 300) is not None  # a legitimate repeat notification


async def test_outbox_keeps_order_and_marks_sent_and_dead(outbox):
    await outbox.enqueue(notification(1), REFS[:1], 300)
    await outbox.enqueue(notification(2), REFS[:1], 300)
    first = await outbox.next_delivery("default/discord/0")
    await outbox.mark_sent(first.id, "discord")
    second = await outbox.next_delivery("default/discord/0")
    assert second.notification == notification(2)
    await outbox.mark_dead(second.id, "discord", "HTTP 400: embed too long")
    assert await outbox.next_delivery("default/discord/0") is None
    assert outbox.pending["discord"] == 0
    recent = await outbox.recent()
    assert [n["deliveries"][0]["state"] for n in recent] == ["dead", "sent"]
    assert recent[0]["deliveries"][0]["last_error"] == "HTTP 400: embed too long"
    assert recent[0]["alertnames"] == ["Probe2"]


async def test_outbox_resumes_pending_rows_after_reopening(store, request, tmp_path):
    first = Outbox(make_database(store, request, tmp_path))
    await first.open()
    await first.enqueue(notification(1), REFS, 300)
    await first.close()  # (the process test covers SIGKILL)
    second = Outbox(_same_database(first.database))
    await second.open()
    assert second.pending == {"discord": 1, "email": 1}
    assert (await second.next_delivery("default/email/0")).notification == notification(1)
    await second.close()


async def test_outbox_reschedule_records_attempt_and_time(outbox):
    await outbox.enqueue(notification(1), REFS[:1], 300)
    delivery = await outbox.next_delivery("default/discord/0")
    await outbox.reschedule(delivery.id, 1_000_030.0, "429")
    again = await outbox.next_delivery("default/discord/0")
    assert (again.attempts, again.next_attempt_at) == (1, 1_000_030.0)


async def test_outbox_refuses_when_full(outbox):
    for n in range(5):
        await outbox.enqueue(notification(n), REFS, 300)
    with pytest.raises(OutboxError, match="full"):
        await outbox.enqueue(notification(99), REFS, 300)


async def test_outbox_refuses_when_the_database_is_locked(sqlite_outbox):
    outbox = sqlite_outbox
    other = sqlite3.connect(outbox.database.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OutboxError, match="locked"):
            await outbox.enqueue(notification(1), REFS, 300)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert outbox.pending == {}
    assert await outbox.enqueue(notification(1), REFS, 300) is not None


async def test_outbox_prunes_finished_notifications_only(outbox):
    await outbox.enqueue(notification(1), REFS[:1], 300)
    await outbox.enqueue(notification(2), REFS[:1], 300)
    first = await outbox.next_delivery("default/discord/0")
    await outbox.mark_sent(first.id, "discord")
    outbox.clock.now += 8 * 86400
    assert await outbox.prune(7 * 86400, 300) == 1
    assert [n["alertnames"] for n in await outbox.recent()] == [["Probe2"]]
    assert await outbox.enqueue(notification(1), REFS[:1], 300) is not None  # its dedup key expired too


def _same_database(database):
    """A second connection (pool) to the store `database` points at, as a restarted process would open."""
    if isinstance(database, SqliteDatabase):
        return SqliteDatabase(database.path)
    from bridge.store.postgres import PostgresDatabase

    return PostgresDatabase(database.url)


async def test_outbox_same_webhook_to_two_replicas_at_once_is_one_notification(store, request, tmp_path):
    first = Outbox(make_database(store, request, tmp_path), clock=Clock())
    await first.open()
    second = Outbox(_same_database(first.database), clock=first.clock)
    await second.open()
    try:
        results = await asyncio.gather(
            *(box.enqueue(notification(n), REFS, 300) for n in range(50) for box in (first, second))
        )
        accepted = [r for r in results if r is not None]
        assert len(accepted) == 50 and len(set(accepted)) == 50
        assert len(await first.notifications(limit=500)) == 50
    finally:
        await second.close()
        await first.close()


async def test_outbox_claim_leases_a_row_and_another_replica_takes_it_over_after_the_lease(outbox):
    await outbox.enqueue(notification(1), REFS[:1], 300)
    claimed = await outbox.claim("default/discord/0", "replica-a", lease=30)
    assert claimed is not None and claimed.notification == notification(1)
    assert await outbox.claim("default/discord/0", "replica-b", lease=30) is None  # leased to a
    assert await outbox.next_due("default/discord/0") == outbox.clock.now + 30
    outbox.clock.now += 30  # replica a died: its lease runs out
    again = await outbox.claim("default/discord/0", "replica-b", lease=30)
    assert again is not None and again.id == claimed.id
    assert not await outbox.mark_sent(claimed.id, "discord", "replica-a")  # a's late answer does not count
    assert await outbox.mark_sent(claimed.id, "discord", "replica-b")


async def test_outbox_keeps_each_group_in_order_but_lets_other_groups_pass(outbox):
    firing, resolved = notification(1), notification_from_webhook(webhook(1, "resolved"), "default")
    await outbox.enqueue(firing, REFS[:1], 300)
    await outbox.enqueue(resolved, REFS[:1], 300)
    await outbox.enqueue(notification(2), REFS[:1], 300)
    first = await outbox.claim("default/discord/0", "a", lease=30)
    await outbox.reschedule(first.id, outbox.clock.now + 60, "HTTP 500", owner="a")  # the firing must wait
    other = await outbox.claim("default/discord/0", "a", lease=30)
    assert other.notification == notification(2)  # another group is not held up
    assert await outbox.claim("default/discord/0", "b", lease=30) is None  # the resolved waits for its firing
    outbox.clock.now += 60
    assert (await outbox.claim("default/discord/0", "b", lease=30)).notification == firing
    await outbox.mark_sent(first.id, "discord", "b")
    assert (await outbox.claim("default/discord/0", "a", lease=30)).notification == resolved


async def test_outbox_holds_a_rate_limited_target_for_every_replica(outbox):
    await outbox.enqueue(notification(1), REFS, 300)
    await outbox.hold("discord:…/1", outbox.clock.now + 5)
    assert await outbox.claim("default/discord/0", "b", lease=30) is None
    assert await outbox.next_due("default/discord/0") == outbox.clock.now + 5
    assert await outbox.claim("default/email/0", "b", lease=30) is not None  # other targets go on
    outbox.clock.now += 5
    assert await outbox.claim("default/discord/0", "b", lease=30) is not None


async def test_outbox_retry_puts_dead_deliveries_back_to_pending(outbox):
    await outbox.enqueue(notification(1), REFS, 300)
    await outbox.enqueue(notification(2), REFS, 300)
    for n in range(4):
        delivery = await outbox.claim(REFS[n % 2].key, "a", lease=30)
        await outbox.mark_dead(delivery.id, delivery.channel, "HTTP 404", "a")
    assert outbox.pending == {"discord": 0, "email": 0}
    one = (await outbox.notifications(state="dead"))[0]["deliveries"][0]
    assert await outbox.retry(one["id"]) and not await outbox.retry(one["id"])  # only dead rows
    assert (await outbox.claim(one["channel_key"], "a", lease=30)).attempts == 0
    assert await outbox.retry_dead("email") == 2
    assert outbox.pending == {"discord": 1, "email": 2}
    assert await outbox.retry_dead() == 1
    assert (await outbox.delivery_counts())["default/discord/0"] == {"pending": 2, "sent": 0, "dead": 0}


async def test_outbox_migrates_concurrently_on_an_empty_database(store, request, tmp_path):
    first = Outbox(make_database(store, request, tmp_path))
    others = [Outbox(_same_database(first.database)) for _ in range(3)]
    await asyncio.gather(first.open(), *(o.open() for o in others))
    try:
        assert await first.enqueue(notification(1), REFS, 300) is not None
        assert await others[0].enqueue(notification(1), REFS, 300) is None
    finally:
        for box in (first, *others):
            await box.close()


async def test_outbox_migrates_a_first_wave_sqlite_file(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute(
        "INSERT INTO notifications (receiver, body, dedup_key, created_at) VALUES (?, ?, 'k', 5)",
        ("default", notification(1).to_json()),
    )
    old.execute(
        "INSERT INTO deliveries (notification_id, channel_key, channel, target, state, next_attempt_at,"
        " created_at) VALUES (1, 'default/discord/0', 'discord', 'discord:…/1', 'pending', 5, 5)"
    )
    old.commit()
    old.close()
    box = Outbox(SqliteDatabase(path), clock=Clock())
    await box.open()
    try:
        delivery = await box.claim("default/discord/0", "a", lease=30)
        assert delivery.notification == notification(1) and delivery.group_key == notification(1).group_key
        assert delivery.queued_at == 5
    finally:
        await box.close()
