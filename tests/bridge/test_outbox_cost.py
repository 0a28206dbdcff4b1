"""Accepting, claiming and the next-due look cost the same with 10,000 deliveries pending as with 100, on both stores.

Each operation's statements are replayed with the database's own plan and counters (tests/bridge/plans.py): at 10,000
pending rows no statement scans a whole outbox table, and none does more than about the work it did at 100. Twice:
with the planner's statistics taken in a quiet time (the outbox held only sent rows, as before an incident storm:
an index that looks as cheap as the right one then gets picked and walks every pending row), and with fresh ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bridge.alertmanager import notification_from_webhook
from bridge.outbox import ChannelRef, Outbox
from tests.bridge.conftest import Clock, make_database, opened
from tests.bridge.helpers import notification, webhook
from tests.bridge.plans import Cost, Recording, replay

SMALL, BACKLOG = 100, 10_000
REF = ChannelRef("default/discord/0", "discord", "discord:webhooks/1/***")
GROWTH, SLACK = 2.0, 50  # allowed: twice the work at 100 rows, plus a little (one more B-tree level, a longer key)


async def fill(box: Outbox, start: int, stop: int) -> None:
    """Pending deliveries of distinct alert groups: every row is the head of its group (the most heads to look at)."""
    parallel = asyncio.Semaphore(8)  # PostgreSQL takes them on several connections; SQLite one after the other

    async def enqueue(n: int) -> None:
        async with parallel:
            await box.enqueue(notification(n), [REF], 300)

    await asyncio.gather(*(enqueue(n) for n in range(start, stop)))


async def quiet_time(box: Outbox) -> None:
    """Sent rows only, and the planner's statistics taken then (autovacuum kept from taking newer ones)."""
    if box.database.name == "postgresql":
        async with box.database.transaction() as tx:
            await tx.execute("ALTER TABLE deliveries SET (autovacuum_enabled = off)")
    await fill(box, -SMALL, 0)
    while (delivery := await box.claim(REF.key, "a", 30)) is not None:
        await box.mark_sent(delivery.id, "discord", "a")
    await analyze(box)


async def analyze(box: Outbox) -> None:
    async with box.database.transaction() as tx:
        await tx.execute("ANALYZE")


async def operations(box: Outbox, recording: Recording, round_: int) -> dict[str, list[Cost]]:
    """What a worker and the webhook handler do, each replayed for its cost; the target is held for the first two."""
    clock: Clock = box.clock  # type: ignore[assignment]
    costs: dict[str, list[Cost]] = {}

    async def measure(name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        recording.log.clear()
        result = await call()
        costs[name] = replay(recording.inner, list(recording.log))
        return result

    await box.hold(REF.target, clock.now + 60)
    assert await measure("claim while the webhook is held", lambda: box.claim(REF.key, "a", 30)) is None
    assert await measure("next due while the webhook is held", lambda: box.next_due(REF.key)) == clock.now + 60
    clock.now += 61
    fresh = notification_from_webhook(webhook(10**6 + round_), "default")
    await measure("enqueue (a new group)", lambda: box.enqueue(fresh, [REF], 300))
    behind = notification_from_webhook(webhook(round_, "resolved"), "default")  # its firing is still pending
    await measure("enqueue (behind a pending row of its group)", lambda: box.enqueue(behind, [REF], 300))
    claimed = await measure("claim", lambda: box.claim(REF.key, "a", 30))
    assert claimed is not None
    await measure("reschedule", lambda: box.reschedule(claimed.id, clock.now + 30, "HTTP 500", owner="a"))
    await measure("next due", lambda: box.next_due(REF.key))
    other = await box.claim(REF.key, "a", 30)
    assert other is not None and other.id != claimed.id
    await measure("mark sent", lambda: box.mark_sent(other.id, "discord", "a"))
    return costs


def work(costs: list[Cost]) -> int:
    return sum(cost.work for cost in costs)


def report(name: str, small: list[Cost], big: list[Cost]) -> str:
    lines = [f"{name}: work {work(small)} at {SMALL} pending, {work(big)} at {BACKLOG}"]
    for cost in big:
        lines += [f"  {cost.work:>9}  {' '.join(cost.sql.split())[:160]}"] + [f"             {p}" for p in cost.plan]
    return "\n".join(lines)


@pytest.mark.slow
async def test_outbox_cost_of_accept_claim_and_next_due_does_not_grow_with_the_backlog(store, request, tmp_path):
    recording = Recording(make_database(store, request, tmp_path))
    async with opened(Outbox(recording, max_pending=10 * BACKLOG, clock=Clock())) as box:  # type: ignore[arg-type]
        await quiet_time(box)
        await fill(box, 0, SMALL)
        small = await operations(box, recording, 0)
        started = time.monotonic()
        await fill(box, SMALL, BACKLOG)
        print(f"filled {BACKLOG} pending rows in {time.monotonic() - started:.1f} s")
        rounds = [await operations(box, recording, 1)]  # statistics from the quiet time
        await analyze(box)
        rounds.append(await operations(box, recording, 2))  # statistics of the backlog
    problems = []
    for big in rounds:
        for name, costs in big.items():
            scans = [scan for cost in costs for scan in cost.scans]
            if scans or work(costs) > GROWTH * work(small[name]) + SLACK:
                problems.append(report(name, small[name], costs) + (f"\n  full scans: {scans}" if scans else ""))
    assert not problems, "\n\n".join(problems)
