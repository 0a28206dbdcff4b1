"""The queue a delivery worker takes from: the head of each alert group's queue, per channel instance.

Only the oldest pending delivery of a (channel instance, alert group) may be sent, so a resolved never overtakes
its firing. Which row that is and when it may go is kept on the row, in `deliveries.head_due_at`, so that claiming
and the next-due look are a probe of one small index (`deliveries_heads`: channel_key, head_due_at, queued_at, id;
heads only) whatever the backlog, instead of a per-row `min()` over every pending row of the channel:

- NULL: not a head (it waits behind an older row of its group), or not pending.
- 0: the head, ready: sendable now. Ready heads go in the order they were queued (accepted, or retried by an
  operator; then by id), an order only that index gives, so no planner walks the sent history instead.
- a time: the head, waiting until then (a retry time, or the lease of the worker sending it). A claim first makes
  the waiting heads whose time has come ready (`promote`, a bounded batch, earliest first); each head is promoted
  once per wait, so that work is spread over the rows, not repeated by every look.

What keeps it: an enqueue (the new row is ready when its group has nothing pending, else NULL), a claim (its lease),
a reschedule (the retry time), finishing a head (the group's next row becomes its head) and reviving dead rows (an
older row can become the head again). On PostgreSQL whatever changes a group's head runs under that group's lock
(`Database.group_lock`), so an enqueue and the finish of the same group never both miss the new head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.store import Database, Tx

PROMOTE_BATCH = 500  # waiting heads made ready by one claim at most (after an outage, thousands come due at once)

# head_due_at of a row being inserted (parameters: its channel key and group key).
NEW_ROW_HEAD = (
    "CASE WHEN EXISTS (SELECT 1 FROM deliveries e WHERE e.channel_key = %s AND e.group_key = %s"
    " AND e.state = 'pending') THEN NULL ELSE 0 END"
)
# The hold on a row's target (0: none), for a query over `deliveries d`.
HOLD_OF_D = "coalesce((SELECT h.not_before FROM holds h WHERE h.target = d.target), 0)"
# The ready heads of a channel instance, first the one to claim (parameter: its key).
READY_HEADS = "d.channel_key = %s AND d.head_due_at = 0 ORDER BY d.queued_at, d.id"
FIRST_HEAD = (
    f"SELECT CASE WHEN d.head_due_at = 0 THEN d.next_attempt_at ELSE d.head_due_at END, {HOLD_OF_D}"
    " FROM deliveries d WHERE d.channel_key = %s AND d.head_due_at IS NOT NULL"
    " ORDER BY d.head_due_at, d.queued_at, d.id LIMIT 1"
)
OLDEST_PENDING = (
    "(SELECT min(e.id) FROM deliveries e WHERE e.channel_key = %s AND e.group_key = %s AND e.state = 'pending')"
)


@dataclass(frozen=True)
class Outlook:
    """A channel instance's queue seen from its first head (the oldest ready one, else the one due soonest)."""

    due_at: float  # when that head may be claimed (a past time: now)
    held_until: float  # the hold on its target (0: none): nothing goes to that receiver before it

    @property
    def at(self) -> float:
        """When a claim may next find something."""
        return max(self.due_at, self.held_until)


async def outlook(tx: Tx, channel_key: str) -> Outlook | None:
    """None when the channel instance has nothing pending."""
    rows = await tx.execute(FIRST_HEAD, (channel_key,))
    return Outlook(float(rows[0][0]), float(rows[0][1])) if rows else None


async def promote(tx: Tx, channel_key: str, now: float, lock_rows: str) -> None:
    """Waiting heads whose time has come become ready (rows another replica is promoting are skipped)."""
    await tx.execute(
        "UPDATE deliveries SET head_due_at = 0 WHERE id IN (SELECT d.id FROM deliveries d WHERE d.channel_key = %s"
        f" AND d.head_due_at > 0 AND d.head_due_at <= %s ORDER BY d.head_due_at LIMIT {PROMOTE_BATCH} {lock_rows})",
        (channel_key, now),
    )


def _advance_sql(greatest: str) -> str:
    due = f"{greatest}(next_attempt_at, coalesce(lease_until, 0))"
    return (
        f"UPDATE deliveries SET head_due_at = CASE WHEN {due} <= %s THEN 0 ELSE {due} END"
        f" WHERE id = {OLDEST_PENDING} AND head_due_at IS NULL"
    )


async def advance(tx: Tx, groups: Sequence[tuple[str, str]], now: float, greatest: str) -> None:
    """Each group's oldest pending row becomes its head, when it is not already (after its head was finished)."""
    if groups:
        await tx.executemany(_advance_sql(greatest), [(now, key, group) for key, group in groups])


async def reseat(tx: Tx, groups: Sequence[tuple[str, str]], now: float, greatest: str) -> None:
    """Each group's head is its oldest pending row again, whichever rows were there (after reviving dead ones)."""
    if not groups:
        return
    await tx.executemany(
        "UPDATE deliveries SET head_due_at = NULL WHERE channel_key = %s AND group_key = %s AND state = 'pending'"
        f" AND head_due_at IS NOT NULL AND id <> {OLDEST_PENDING}",
        [(key, group, key, group) for key, group in groups],
    )
    await advance(tx, groups, now, greatest)


async def lock_groups(tx: Tx, database: Database, groups: Sequence[str]) -> None:
    """Hold these alert groups' locks until commit (where the store needs them), always in the same order."""
    if database.group_lock:
        for group in sorted(set(groups)):
            await tx.execute(f"SELECT {database.group_lock.format('%s')}", (group,))


async def notify(tx: Tx, database: Database, keys: Sequence[str]) -> None:
    """Tell the other replicas at commit that these channel instances have rows that may go (shared stores)."""
    if database.notify_sql and keys:
        await tx.execute(database.notify_sql, (",".join(sorted(set(keys))),))
