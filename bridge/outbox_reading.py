"""Reading the outbox for people and scripts: notifications newest first, one notification, counts per channel.

The read side of bridge/outbox.py (a base class of `Outbox`, on the same `Database`), for /api/notifications
and the console; it changes nothing. Targets are stored redacted, so nothing here can show a secret.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Sequence
from typing import Any

from bridge.notification import Notification
from bridge.store import Database, Tx, in_list

STATES = ("pending", "sent", "dead")
DELIVERY_DETAIL = (
    "id, notification_id, channel_key, channel, target, state, attempts, next_attempt_at, last_error, sent_at,"
    " delivered_parts"
)


class OutboxReading:
    database: Database

    async def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest notifications with each channel's delivery state (targets are already redacted)."""
        return await self.notifications(limit=limit)

    async def notifications(
        self, *, limit: int = 50, state: str | None = None, receiver: str | None = None, before: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first: those with a delivery in `state`, to `receiver`, with an id below `before` (paging)."""
        where, params = ["1 = 1"], list[Any]()
        if state is not None:
            where.append("EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.state = %s)")
            params.append(state)
        if receiver is not None:
            where.append("n.receiver = %s")
            params.append(receiver)
        if before is not None:
            where.append("n.id < %s")
            params.append(before)
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                f"SELECT n.id, n.receiver, n.body, n.created_at FROM notifications n WHERE {' AND '.join(where)}"
                " ORDER BY n.id DESC LIMIT %s",
                (*params, limit),
            )
            deliveries = await self._deliveries(tx, [row[0] for row in rows])
        return [_summary(row, deliveries[row[0]]) for row in rows]

    async def notification(self, notification_id: int) -> tuple[dict[str, Any], Notification] | None:
        """One notification's summary (as listed) and the notification itself; None when unknown."""
        async with self.database.transaction() as tx:
            rows = await tx.execute(
                "SELECT n.id, n.receiver, n.body, n.created_at FROM notifications n WHERE n.id = %s", (notification_id,)
            )
            if not rows:
                return None
            deliveries = await self._deliveries(tx, [notification_id])
        return _summary(rows[0], deliveries[notification_id]), Notification.from_json(rows[0][2])

    async def bodies(self, ids: Sequence[int]) -> dict[int, Notification]:
        """The stored notifications of these ids (unknown ids left out), in one query: a listing's titles."""
        if not ids:
            return {}
        async with self.database.transaction() as tx:
            rows = await tx.execute(f"SELECT id, body FROM notifications WHERE id IN ({in_list(ids)})", ids)
        return {int(row[0]): Notification.from_json(row[1]) for row in rows}

    async def _deliveries(self, tx: Tx, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        if not ids:
            return found
        rows = await tx.execute(
            f"SELECT {DELIVERY_DETAIL} FROM deliveries WHERE notification_id IN ({in_list(ids)}) ORDER BY id", ids
        )
        for row in rows:
            found[int(row[1])].append(
                {
                    "id": row[0],
                    "channel_key": row[2],
                    "channel": row[3],
                    "target": row[4],
                    "state": row[5],
                    "attempts": row[6],
                    "next_attempt_at": row[7],
                    "last_error": row[8],
                    "sent_at": row[9],
                    "delivered_parts": sorted(parts_from_json(row[10])),
                }
            )
        return found

    async def delivery_counts(self) -> dict[str, dict[str, int]]:
        """Deliveries by channel key and state (every state present, zeros included)."""
        async with self.database.transaction() as tx:
            rows = await tx.execute("SELECT channel_key, state, count(*) FROM deliveries GROUP BY channel_key, state")
        counts: dict[str, dict[str, int]] = collections.defaultdict(lambda: dict.fromkeys(STATES, 0))
        for key, state, count in rows:
            counts[str(key)][str(state)] = int(count)
        return dict(counts)


def parts_from_json(text: str) -> dict[int, dict[str, Any]]:
    """The stored parts: a JSON object {index: what the channel kept}, or the first wave's list of indexes."""
    data = json.loads(text)
    if isinstance(data, list):
        return {int(index): {} for index in data}
    return {int(index): dict(info) for index, info in data.items()}


def _summary(row: Sequence[Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    body = json.loads(row[2])
    names = sorted({a["labels"].get("alertname", "alert") for a in body["alerts"]})
    return {
        "id": row[0],
        "receiver": row[1],
        "status": body["status"],
        "alertnames": names,
        "alerts": len(body["alerts"]),
        "group_key": body["group_key"],
        "created_at": row[3],
        "deliveries": deliveries,
    }
