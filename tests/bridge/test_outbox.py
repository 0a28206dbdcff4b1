import sqlite3

import pytest

from bridge.outbox import ChannelRef, Outbox, OutboxError
from bridge.store.sqlite import SqliteDatabase
from tests.bridge.conftest import Clock, make_database
from tests.bridge.helpers import notification

REFS = [ChannelRef("default/discord/0", "discord", "discord:…/1"), ChannelRef("default/email/0", "email", "email:a@x")]


@pytest.fixture
async def outbox(store, request, tmp_path):
    box = Outbox(make_database(store, request, tmp_path, busy_timeout=0.1), max_pending=10, clock=Clock())
    await box.open()
    yield box
    await box.close()


@pytest.fixture
async def sqlite_outbox(tmp_path):
    box = Outbox(SqliteDatabase(tmp_path / "outbox.sqlite3", busy_timeout=0.1), max_pending=10, clock=Clock())
    await box.open()
    yield box
    await box.close()


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
