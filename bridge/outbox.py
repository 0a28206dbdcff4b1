"""The durable outbox: accepted notifications and one delivery row per (notification, channel instance).

Written once for every store (bridge/store/: embedded SQLite, shared PostgreSQL). A notification is committed
before the webhook gets its 2xx, so a crash loses nothing: the rows are still `pending` after a restart, or
for the other replicas. Rules that hold on both stores:

- Dedup: a unique key per notification (receiver, groupKey, status, alerts) within the dedup window, claimed
  with one upsert, so the same webhook sent to two replicas at once is accepted once.
- Order: a delivery is only sent once every older delivery of the same channel instance and alert group is
  sent or dead, so a resolved never overtakes its firing, whichever replica sends them.
- Claiming: a worker takes a due row with a lease (`lease_until`, `lease_owner`); a replica that dies loses
  its leases and another takes the row over when the lease runs out. A row whose send was in flight is sent
  again then (at-least-once); marking it `sent` right after the channel returns keeps that window to one
  HTTP round trip. Progress (the parts of a multi-part message already accepted) is saved as it happens.
- Holds: a receiver's "wait N seconds" (Discord's 429 `retry_after`) is stored per target, so every replica
  holds back from that webhook, not only the one that was told.
"""

from __future__ import annotations

import collections
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.notification import Notification
from bridge.outbox_reading import OutboxReading, parts_from_json
from bridge.store import Database, StoreError, Tx

OutboxError = StoreError  # the first wave's name for it
Parts = Mapping[int, Mapping[str, Any]] | frozenset[int]  # accepted parts, with or without what was kept for each

# The head of each (channel instance, alert group) queue: the only rows that may be sent next. Written as a
# min() subquery so both planners answer it from the (channel_key, group_key, state, id) index for any table
# size (a NOT EXISTS anti-join was planned as a quadratic scan on a table without statistics).
HEAD = (
    "d.channel_key = %s AND d.state = 'pending' AND d.id = (SELECT min(e.id) FROM deliveries e"
    " WHERE e.channel_key = d.channel_key AND e.group_key = d.group_key AND e.state = 'pending')"
)
DELIVERY_COLUMNS = (
    "d.id, d.notification_id, n.body, d.created_at, d.attempts, d.next_attempt_at, d.delivered_parts,"
    " d.channel_key, d.channel, d.target, d.group_key, coalesce(d.queued_at, d.created_at)"
)
DEDUP_UPSERT = (
    "INSERT INTO dedup (key, seen_at) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at"
    " WHERE dedup.seen_at < %s RETURNING key"
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


class Outbox(OutboxReading):
    """Accepting, claiming, finishing and reading deliveries, on whichever `Database` it is given."""

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
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE lease_owner IS NOT NULL"
                )
        await self.refresh_pending()

    async def close(self) -> None:
        await self.database.close()

    async def refresh_pending(self) -> None:
        async with self.database.transaction() as tx:
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
        async with self.database.transaction() as tx:
            if self.database.group_lock_sql:
                await tx.execute(self.database.group_lock_sql, (f"{notification.receiver}|{notification.group_key}",))
            if not await tx.execute(DEDUP_UPSERT, (key, now, cutoff)):
                return None
            rows = await tx.execute(
                "INSERT INTO notifications (receiver, body, dedup_key, created_at) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (notification.receiver, notification.to_json(), key, now),
            )
            notification_id = int(rows[0][0])
            await tx.executemany(
                "INSERT INTO deliveries (notification_id, channel_key, channel, target, group_key, state,"
                " next_attempt_at, created_at, queued_at) VALUES (%s, %s, %s, %s, %s, 'pending', %s, %s, %s)",
                [(notification_id, c.key, c.name, c.target, notification.group_key, now, now, now) for c in channels],
            )
            await self._notify(tx, [c.key for c in channels])
        self.pending.update(c.name for c in channels)
        return notification_id

    async def _notify(self, tx: Tx, keys: Sequence[str]) -> None:
        if self.database.notify_sql and keys:
            await tx.execute(self.database.notify_sql, (",".join(sorted(set(keys))),))

    # -- delivering --------------------------------------------------------------------------
    async def next_delivery(self, channel_key: str) -> Delivery | None:
        """The oldest pending delivery of a channel instance, due or not, leased or not (a look, not a claim)."""
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
                " WHERE d.channel_key = %s AND d.state = 'pending' ORDER BY d.id LIMIT 1",
                (channel_key,),
            )
        return _delivery(rows[0]) if rows else None

    async def claim(self, channel_key: str, owner: str, lease: float) -> Delivery | None:
        """The oldest due delivery at the head of its group's queue, leased to `owner` for `lease` seconds;
        None when nothing can be sent now (see `next_due`)."""
        now = self.clock()
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
                f" WHERE {HEAD} AND d.next_attempt_at <= %s AND (d.lease_until IS NULL OR d.lease_until <= %s)"
                " AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.target = d.target AND h.not_before > %s)"
                f" ORDER BY d.id LIMIT 1 {self.database.lock_rows}",
                (channel_key, now, now, now),
            )
            if not rows:
                return None
            await tx.execute(
                "UPDATE deliveries SET lease_until = %s, lease_owner = %s WHERE id = %s",
                (now + lease, owner, rows[0][0]),
            )
        return _delivery(rows[0])

    async def next_due(self, channel_key: str) -> float | None:
        """When `claim` may next find something for this channel instance (a retry time, a lease running
        out, a hold ending); None when it has nothing pending."""
        greatest = self.database.greatest
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                f"SELECT min({greatest}(d.next_attempt_at, coalesce(d.lease_until, 0),"
                " coalesce((SELECT h.not_before FROM holds h WHERE h.target = d.target), 0)))"
                f" FROM deliveries d WHERE {HEAD}",
                (channel_key,),
            )
        return float(rows[0][0]) if rows and rows[0][0] is not None else None

    async def record_parts(self, delivery_id: int, parts: Parts, owner: str, lease: float) -> bool:
        """Save the parts accepted so far and extend the lease; False when the lease was lost to another worker."""
        async with self.database.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET delivered_parts = %s, lease_until = %s"
                " WHERE id = %s AND state = 'pending' AND lease_owner = %s",
                (_parts_json(parts), self.clock() + lease, delivery_id, owner),
            )
            return tx.rowcount > 0

    async def mark_sent(self, delivery_id: int, channel: str, owner: str | None = None) -> bool:
        return await self._finish(delivery_id, channel, "sent", None, owner)

    async def mark_dead(self, delivery_id: int, channel: str, error: str, owner: str | None = None) -> bool:
        return await self._finish(delivery_id, channel, "dead", error, owner)

    async def _finish(self, delivery_id: int, channel: str, state: str, error: str | None, owner: str | None) -> bool:
        """Sent or dead; False when the row was no longer pending, or (with `owner`) no longer leased to it."""
        sent_at = self.clock() if state == "sent" else None
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                "UPDATE deliveries SET state = %s, attempts = attempts + 1, sent_at = %s, last_error = %s,"
                " lease_until = NULL, lease_owner = NULL WHERE id = %s AND state = 'pending'"
                + _owned(owner)
                + " RETURNING channel_key",
                (state, sent_at, error, delivery_id, *_owner_param(owner)),
            )
            await self._notify(tx, [str(row[0]) for row in rows])  # the group's next row may go now
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
                " delivered_parts = %s, lease_until = NULL, lease_owner = NULL WHERE id = %s AND state = 'pending'"
                + _owned(owner),
                (next_attempt_at, error, _parts_json(delivered_parts), delivery_id, *_owner_param(owner)),
            )
            return tx.rowcount > 0

    async def hold(self, target: str, until: float) -> None:
        """No delivery to `target` before `until`, on any replica (a receiver's own "retry after")."""
        async with self.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO holds (target, not_before) VALUES (%s, %s) ON CONFLICT (target) DO UPDATE SET"
                " not_before = CASE WHEN excluded.not_before > holds.not_before THEN excluded.not_before"
                " ELSE holds.not_before END",
                (target, until),
            )

    # -- per-group channel state (message ids to edit, a forum post per incident) -------------
    async def group_state(self, channel_key: str, group_key: str) -> dict[str, Any] | None:
        async with self.database.transaction() as tx:
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

    # -- operators: replaying dead letters ----------------------------------------------------
    async def retry(self, delivery_id: int) -> bool:
        """A dead delivery back to pending, attempts reset, due now; False when it is not dead (or unknown)."""
        return bool(await self._revive("id = %s", (delivery_id,)))

    async def retry_dead(self, channel: str | None = None) -> int:
        """Every dead delivery (of one channel name or channel key) back to pending; how many."""
        if channel is None:
            return await self._revive("1 = 1", ())
        return await self._revive("(channel = %s OR channel_key = %s)", (channel, channel))

    async def _revive(self, where: str, params: tuple[Any, ...]) -> int:
        now = self.clock()
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = %s, queued_at = %s,"
                f" lease_until = NULL, lease_owner = NULL WHERE state = 'dead' AND {where}"
                " RETURNING channel, channel_key",
                (now, now, *params),
            )
            await self._notify(tx, [str(row[1]) for row in rows])
        self.pending.update(str(row[0]) for row in rows)
        return len(rows)

    # -- housekeeping ------------------------------------------------------------------------
    async def prune(self, retention: float, dedup_window: float) -> int:
        """Delete finished notifications older than `retention`, expired dedup keys, holds and group state;
        the number of notifications deleted."""
        now = self.clock()
        async with self.database.transaction() as tx:
            await tx.execute(
                "DELETE FROM notifications WHERE created_at < %s AND NOT EXISTS (SELECT 1 FROM deliveries d"
                " WHERE d.notification_id = notifications.id AND d.state = 'pending')",
                (now - retention,),
            )
            deleted = tx.rowcount
            await tx.execute("DELETE FROM dedup WHERE seen_at < %s", (now - dedup_window,))
            await tx.execute("DELETE FROM holds WHERE not_before < %s", (now,))
            await tx.execute("DELETE FROM group_state WHERE updated_at < %s", (now - retention,))
        return deleted


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
