"""What operators and time do to the outbox: dead deliveries sent again on request, old rows pruned.

A base of `Outbox` (bridge/outbox.py), on the same `Database`. A revived delivery is pending again at the back of
the queue (`queued_at` now); when it is older than its group's head it becomes the head again, so its group still
goes out in order.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from bridge import outbox_holds as holds
from bridge import outbox_queue as queue
from bridge.store import Database


class OutboxUpkeep:
    database: Database
    clock: Callable[[], float]
    pending: collections.Counter[str]

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
                f" lease_until = NULL, lease_owner = NULL, head_due_at = NULL WHERE state = 'dead' AND {where}"
                " RETURNING channel, channel_key, group_key",
                (now, now, *params),
            )
            groups = sorted({(str(row[1]), str(row[2])) for row in rows})
            # After the rows' own locks: safe, as nothing that holds a group's lock waits for a dead row's lock.
            await queue.lock_groups(tx, self.database, [group for _, group in groups])
            await queue.reseat(tx, groups, now, self.database.greatest)
            await queue.notify(tx, self.database, [str(row[1]) for row in rows])
        self.pending.update(str(row[0]) for row in rows)
        return len(rows)

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
            await holds.prune(tx, now)
            await tx.execute("DELETE FROM group_state WHERE updated_at < %s", (now - retention,))
        return deleted
