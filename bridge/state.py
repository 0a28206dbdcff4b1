"""What the bridge's routes share (the webhooks, the JSON API, the console), and accepting a notification.

Accepting is one path for everything that creates a notification: Alertmanager's webhook, the legacy API and a
send test from the console or the API all commit through `accept`, so they are deduplicated, counted and woken
the same way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from allim.rejected import Rejected, refusal
from bridge.config import BridgeConfig
from bridge.dispatch import Dispatcher
from bridge.metrics import BridgeMetrics
from bridge.notification import Notification
from bridge.outbox import ChannelRef, Outbox
from bridge.store import StoreError

log = logging.getLogger("bridge")


@dataclass
class BridgeState:
    config: BridgeConfig
    outbox: Outbox
    metrics: BridgeMetrics
    dispatcher: Dispatcher
    receivers: dict[str, list[ChannelRef]]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ready: bool = False
    started_at: float = 0.0  # unix time the app started serving (the console's uptime)

    @property
    def console_actions(self) -> bool:
        """Whether retries and send tests may be made: always behind a token, else only when switched on."""
        return self.config.auth_token is not None or self.config.console_actions


def unknown_receiver(state: BridgeState, receiver: str) -> Rejected:
    """404 for a receiver the config does not have, naming those it has."""
    configured = ", ".join(sorted(state.receivers))
    return refusal(
        404,
        "unknown_receiver",
        "unknown receiver {receiver!r}; configured: {configured}",
        receiver=receiver,
        configured=configured,
    )


async def accept(state: BridgeState, notification: Notification) -> dict[str, object]:
    """Commit the notification for its receiver's channels and wake their workers: the webhook's answer body.

    Raises Rejected(503) when the outbox cannot take it (not open yet, full, unwritable)."""
    refs = state.receivers[notification.receiver]
    if not state.ready:
        raise Rejected(503, "the outbox is not open yet (is the database reachable?)", key="outbox_closed")
    try:
        notification_id = await state.outbox.enqueue(notification, refs, state.config.dedup_window)
    except StoreError as exc:
        log.error("cannot accept notification", extra={"err": str(exc)})
        raise refusal(503, "outbox_refused", "{detail}", detail=str(exc)) from None
    if notification_id is None:
        state.metrics.duplicates.inc()
        return {"status": "duplicate", "detail": "already accepted within the dedup window"}
    state.dispatcher.wake([ref.key for ref in refs])
    return {"status": "accepted", "id": notification_id}
