"""The durable outbox: accepted notifications and one delivery row per (notification, channel instance).

Written once for every store (bridge/store/: embedded SQLite, shared PostgreSQL). A notification is committed
before the webhook gets its 2xx, so a crash loses nothing: the rows are still `pending` after a restart, or
for the other replicas. Rules that hold on both stores:

- Dedup: a unique key per notification (receiver, groupKey, status, alerts) within the dedup window, claimed
  with one upsert, so the same webhook sent to two replicas at once is accepted once.
- Order: a delivery is only sent once every older delivery of the same channel instance and alert group is
  sent or dead, so a resolved never overtakes its firing, whichever replica sends them. Each group's head is
  marked on its row (bridge/outbox_queue.py), so accepting, claiming and the next-due look cost the same with
  fifty thousand rows pending as with none.
- Claiming: a worker takes a due row with a lease (`lease_until`, `lease_owner`); a replica that dies loses
  its leases and another takes the row over when the lease runs out. A row whose send was in flight is sent
  again then (at-least-once); marking it `sent` right after the channel returns keeps that window to one
  HTTP round trip. Progress (the parts of a multi-part message already accepted) is saved as it happens.
- Holds: a receiver's "wait N seconds" (Discord's 429 `retry_after`, or its rate-limit headers saying the
  bucket is empty) is stored per target, so every replica holds back from that webhook, not only the one that
  was told.
"""

from __future__ import annotations

import collections
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge import outbox_holds as holds
from bridge import outbox_queue as queue
from bridge.notification import Notification
from bridge.outbox_reading import OutboxReading, parts_from_json
from bridge.outbox_upkeep import OutboxUpkeep
from bridge.store import Database, StoreError

OutboxError = StoreError  # the first wave's name for it
Parts = Mapping[int, Mapping[str, Any]] | frozenset[int]  # accepted parts, with or without what was kept for each

DELIVERY_COLUMNS = (
    "d.id, d.notification_id, n.body, d.created_at, d.attempts, d.next_attempt_at, d.delivered_parts,"
    " d.channel_key, d.channel, d.target, d.group_key, coalesce(d.queued_at, d.created_at)"
)
DEDUP_UPSERT = (
    "INSERT INTO dedup (key, seen_at) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at"
    " WHERE dedup.seen_at < %s RETURNING key"
)
INSERT_DELIVERY = (
    "INSERT INTO deliveries (notification_id, channel_key, channel, target, group_key, state, next_attempt_at,"
    f" created_at, queued_at, head_due_at) VALUES (%s, %s, %s, %s, %s, 'pending', %s, %s, %s, {queue.NEW_ROW_HEAD})"
)


@dataclass(frozen=True)
class ChannelRef:
    """What the outbox records about a channel instance: a stable key, the metric label, a redacted target."""

    key: str  # "<receiver>/<name>/<index>", e.g. "default/discord/0"
    name: str
    target: str


@dataclass(frozen=True)
class Delivery:
    id: int
    notification_id: int
    notification: Notification
    created_at: float  # when the notification was accepted
    attempts: int
    next_attempt_at: float
    delivered_parts: frozenset[int] = frozenset()  # parts of a multi-part message already accepted
    channel_key: str = ""
    channel: str = ""
    target: str = ""
    group_key: str = ""
    queued_at: float = 0.0  # when it last became pending (acceptance, or an operator's retry): the deadline's start
    part_info: dict[int, dict[str, Any]] = field(default_factory=dict)  # per accepted part: what the channel kept


class Outbox(OutboxReading, OutboxUpkeep):
    """Accepting, claiming, finishing and reading deliveries, on whichever `Database` it is given (operators'
    retries and pruning: bridge/outbox_upkeep.py)."""

    def __init__(
        self, database: Database, *, max_pending: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.max_pending = max_pending
        self.clock = clock
        # Undelivered rows by channel name: kept exact for this process's own changes, re-read from the
        # store by `refresh_pending` (periodically when other replicas share it).
        self.pending: collections.Counter[str] = collections.Counter()

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        await self.database.open()
        if not self.database.shared:
            # One process owns an unshared store: leases left by its killed predecessor are void, so what was in
            # flight goes out at once instead of after the lease.
            async with self.database.transaction() as tx:
                await tx.execute(
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, head_due_at = CASE WHEN"
                    " head_due_at IS NULL THEN NULL ELSE next_attempt_at END WHERE lease_owner IS NOT NULL"
                )
        await self.refresh_pending()

    async def close(self) -> None:
        await self.database.close()

    async def refresh_pending(self) -> None:
        async with self.database.read() as tx:
            rows = await tx.execute("SELECT channel, count(*) FROM deliveries WHERE state = 'pending' GROUP BY channel")
        fresh = collections.Counter({str(name): int(count) for name, count in rows})
        for name in set(self.pending) | set(fresh):
            self.pending[name] = fresh[name]

    # -- accepting ---------------------------------------------------------------------------
    async def enqueue(self, notification: Notification, channels: list[ChannelRef], dedup_window: float) -> int | None:
        """Commit the notification and one pending delivery per channel; None when it is a duplicate.

        Raises StoreError when it cannot be stored (full, locked past the busy timeout, unreachable)."""
        if sum(self.pending.values()) + len(channels) > self.max_pending:
            raise StoreError(f"outbox full ({self.max_pending} undelivered notifications)")
        now = self.clock()
        key = notification.dedup_key()
        cutoff = now - dedup_window if dedup_window > 0 else math.inf
        group = notification.group_key
        async with self.database.transaction() as tx:
            await queue.lock_groups(tx, self.database, [group])
            if not await tx.execute(DEDUP_UPSERT, (key, now, cutoff)):
                return None
            rows = await tx.execute(
                "INSERT INTO notifications (receiver, body, dedup_key, created_at) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (notification.receiver, notification.to_json(), key, now),
            )
            notification_id = int(rows[0][0])
            await tx.executemany(
                INSERT_DELIVERY,
                [(notification_id, c.key, c.name, c.target, group, now, now, now, c.key, group) for c in channels],
            )
            await queue.notify(tx, self.database, [c.key for c in channels])
        self.pending.update(c.name for c in channels)
        return notification_id

    # -- delivering --------------------------------------------------------------------------
    async def next_delivery(self, channel_key: str) -> Delivery | None:
        """The oldest pending delivery of a channel instance, due or not, leased or not (a look, not a claim)."""
        async with self.database.read() as tx:
            rows = await tx.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
                " WHERE d.channel_key = %s AND d.state = 'pending' ORDER BY d.id LIMIT 1",
                (channel_key,),
            )
        return _delivery(rows[0]) if rows else None

    async def claim(self, channel_key: str, owner: str, lease: float, *, look: bool = True) -> Delivery | None:
        """The first-queued ready delivery at the head of its group's queue, leased to `owner` for `lease` seconds;
        None when nothing can be sent now (see `next_due`). With `look` (unless the caller just sent one and
        expects more), a read-only look first, so nothing is written while nothing is due or the receiver is held."""
        now = self.clock()
        if look:
            ahead = await self.outlook(channel_key)
            if ahead is None or ahead.at > now:
                return None
        async with self.database.transaction() as tx:
            await queue.promote(tx, channel_key, now, self.database.lock_rows)
            rows = await tx.execute(
                f"SELECT {DELIVERY_COLUMNS}, {queue.HOLD_OF_D}, {holds.TOKENS_OF_D} FROM deliveries d"
                f" JOIN notifications n ON n.id = d.notification_id WHERE {queue.READY_HEADS}"
                f" LIMIT 1 {self.database.lock_rows}",
                (channel_key,),
            )
            if not rows or float(rows[0][-2]) > now:  # none left (another replica took it), or its receiver held
                return None
            delivery = _delivery(rows[0])
            counted = rows[0][-1] is not None  # the receiver's bucket is mirrored (it sent rate-limit headers)
            if counted and not await holds.take_token(tx, delivery.target, now, self.database.greatest):
                return None  # another replica spent the receiver's last request of this window
            await tx.execute(
                "UPDATE deliveries SET lease_until = %s, lease_owner = %s, head_due_at = %s WHERE id = %s",
                (now + lease, owner, now + lease, delivery.id),
            )
        return delivery

    async def next_due(self, channel_key: str) -> float | None:
        """When `claim` may next find something for this channel instance (a retry time, a lease running
        out, a hold ending); None when it has nothing pending."""
        look = await self.outlook(channel_key)
        return None if look is None else look.at

    async def outlook(self, channel_key: str) -> queue.Outlook | None:
        """The channel instance's first head and its receiver's hold (one index probe, read-only)."""
        async with self.database.read() as tx:
            return await queue.outlook(tx, channel_key)

    async def record_parts(
        self, delivery_id: int, parts: Parts, owner: str, lease: float, limit: holds.RateLimit | None = None
    ) -> bool:
        """Save the parts accepted so far and extend the lease, with what the receiver's answer said of its bucket
        (bridge/outbox_holds.py: mirrored for every replica); False when the lease was lost to another worker."""
        now = self.clock()
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET delivered_parts = %s, lease_until = %s, head_due_at = CASE WHEN head_due_at"
                " IS NULL THEN NULL ELSE %s END WHERE id = %s AND state = 'pending' AND lease_owner = %s",
                (_parts_json(parts), now + lease, now + lease, delivery_id, owner),
            )
            kept = tx.rowcount > 0
            if limit is not None:
                end = now + max(0.0, limit.reset_after)
                await holds.report(tx, limit.target, delivery_id, limit.remaining, end, now)
        return kept

    async def mark_sent(self, delivery_id: int, channel: str, owner: str | None = None) -> bool:
        return await self._finish(delivery_id, channel, "sent", None, owner)

    async def mark_dead(self, delivery_id: int, channel: str, error: str, owner: str | None = None) -> bool:
        return await self._finish(delivery_id, channel, "dead", error, owner)

    async def _finish(self, delivery_id: int, channel: str, state: str, error: str | None, owner: str | None) -> bool:
        """Sent or dead; False when the row was no longer pending, or (with `owner`) no longer leased to it."""
        now = self.clock()
        sent_at = now if state == "sent" else None
        async with self.database.transaction() as tx:
            if self.database.group_lock:  # before the row's own lock, as everything else that takes both does
                lock = self.database.group_lock.format("group_key")
                await tx.execute(f"SELECT {lock} FROM deliveries WHERE id = %s", (delivery_id,))
            rows = await tx.execute(
                "UPDATE deliveries SET state = %s, attempts = attempts + 1, sent_at = %s, last_error = %s,"
                " lease_until = NULL, lease_owner = NULL, head_due_at = NULL WHERE id = %s AND state = 'pending'"
                + _owned(owner)
                + " RETURNING channel_key, group_key",
                (state, sent_at, error, delivery_id, *_owner_param(owner)),
            )
            groups = [(str(row[0]), str(row[1])) for row in rows]
            await queue.advance(tx, groups, now, self.database.greatest)
            await queue.notify(tx, self.database, [key for key, _ in groups])  # the group's next row may go now
        if rows:
            self.pending[channel] -= 1
        return bool(rows)

    async def reschedule(
        self,
        delivery_id: int,
        next_attempt_at: float,
        error: str,
        delivered_parts: Parts = frozenset(),
        owner: str | None = None,
    ) -> bool:
        """Count a failed attempt and release the row until `next_attempt_at`."""
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = %s, last_error = %s,"
                " delivered_parts = %s, lease_until = NULL, lease_owner = NULL, head_due_at = CASE WHEN head_due_at"
                " IS NULL THEN NULL ELSE %s END WHERE id = %s AND state = 'pending'" + _owned(owner),
                (next_attempt_at, error, _parts_json(delivered_parts), next_attempt_at, delivery_id)
                + _owner_param(owner),
            )
            return tx.rowcount > 0

    async def hold(self, target: str, until: float) -> None:
        """No delivery to `target` before `until`, on any replica (a receiver's own "retry after")."""
        async with self.database.transaction() as tx:
            await holds.hold(tx, target, until)

    # -- per-group channel state (message ids to edit, a forum post per incident) -------------
    async def group_state(self, channel_key: str, group_key: str) -> dict[str, Any] | None:
        async with self.database.read() as tx:
            rows = await tx.execute(
                "SELECT data FROM group_state WHERE channel_key = %s AND group_key = %s", (channel_key, group_key)
            )
        return dict(json.loads(rows[0][0])) if rows else None

    async def set_group_state(self, channel_key: str, group_key: str, data: dict[str, Any]) -> None:
        async with self.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO group_state (channel_key, group_key, data, updated_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (channel_key, group_key) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (channel_key, group_key, json.dumps(data, sort_keys=True), self.clock()),
            )


def _owned(owner: str | None) -> str:
    return " AND lease_owner = %s" if owner is not None else ""


def _owner_param(owner: str | None) -> tuple[str, ...]:
    return (owner,) if owner is not None else ()


def _parts_json(parts: Parts) -> str:
    info = parts if isinstance(parts, Mapping) else {index: {} for index in parts}
    return json.dumps({str(index): info[index] for index in sorted(info)}, sort_keys=True)


def _delivery(row: Sequence[Any]) -> Delivery:
    parts = parts_from_json(row[6])
    return Delivery(
        id=int(row[0]),
        notification_id=int(row[1]),
        notification=Notification.from_json(row[2]),
        created_at=float(row[3]),
        attempts=int(row[4]),
        next_attempt_at=float(row[5]),
        delivered_parts=frozenset(parts),
        channel_key=str(row[7]),
        channel=str(row[8]),
        target=str(row[9]),
        group_key=str(row[10]),
        queued_at=float(row[11]),
        part_info=parts,
    )
