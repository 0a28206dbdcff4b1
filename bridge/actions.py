"""What an operator can do, the same from the console and the JSON API: retry a notification's dead deliveries,
retry every dead delivery of a channel, send a test notification. Each action is logged with what it touched.

Only channels of the running config are retried: a dead row of a channel that is no longer configured has no
worker, so reviving it would leave it pending forever.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from allim.rejected import Rejected, refusal
from bridge.alertmanager import notification_from_webhook
from bridge.sendtest import sample_payload
from bridge.state import BridgeState, accept, unknown_receiver

log = logging.getLogger("bridge.actions")

NO_NOTIFICATION = "no notification {notification}"
NO_DELIVERY = "notification {notification} has no delivery {delivery}"
NOTHING_DEAD = "notification {notification} has no dead delivery to retry"
UNKNOWN_CHANNEL = "unknown channel {channel!r}: use a channel name ({names}), a channel key or {all}"
ALL_CHANNELS = "all"  # `POST /api/channels/all/retry-dead`: every configured channel
SEND_TEST_INTERVAL = 2.0  # seconds between a send test's firing and resolved notifications (as the CLI does)


def configured_keys(state: BridgeState) -> dict[str, str]:
    """Every configured channel key (`<receiver>/<channel>/<index>`) and its channel name."""
    return {ref.key: ref.name for refs in state.receivers.values() for ref in refs}


async def retry_notification(
    state: BridgeState, notification_id: int, delivery_id: int | None = None, *, via: str
) -> list[dict[str, Any]]:
    """The notification's dead deliveries (or only `delivery_id`) back to pending; the deliveries retried.

    Rejected 404 for an unknown notification or delivery, 409 when nothing of it is dead."""
    found = await state.outbox.notification(notification_id)
    if found is None:
        raise refusal(404, "no_notification", NO_NOTIFICATION, notification=notification_id)
    deliveries = found[0]["deliveries"]
    if delivery_id is not None:
        deliveries = [d for d in deliveries if d["id"] == delivery_id]
        if not deliveries:
            raise refusal(404, "no_delivery", NO_DELIVERY, notification=notification_id, delivery=delivery_id)
    configured = configured_keys(state)
    retried = [
        d
        for d in deliveries
        if d["state"] == "dead" and d["channel_key"] in configured and await state.outbox.retry(d["id"])
    ]
    if not retried:
        raise refusal(409, "nothing_dead", NOTHING_DEAD, notification=notification_id)
    keys = [d["channel_key"] for d in retried]
    state.dispatcher.wake(keys)
    log.info(
        "retrying dead deliveries",
        extra={"via": via, "notification": notification_id, "deliveries": [d["id"] for d in retried], "channels": keys},
    )
    return retried


def channel_keys(state: BridgeState, channel: str) -> list[str]:
    """The configured keys `channel` names: `all`, a channel key, or a channel name (every key of that name)."""
    configured = configured_keys(state)
    if channel == ALL_CHANNELS:
        return list(configured)
    if channel in configured:
        return [channel]
    named = [key for key, name in configured.items() if name == channel]
    if not named:
        names = ", ".join(sorted(set(configured.values())))
        raise refusal(404, "unknown_channel", UNKNOWN_CHANNEL, channel=channel, names=names, all=ALL_CHANNELS)
    return named


async def retry_dead(state: BridgeState, channel: str, *, via: str) -> int:
    """Every dead delivery of the channels `channel` names back to pending; how many."""
    touched: dict[str, int] = {}
    for key in channel_keys(state, channel):
        count = await state.outbox.retry_dead(key)
        if count:
            touched[key] = count
    state.dispatcher.wake(list(touched))
    total = sum(touched.values())
    extra = {"via": via, "channel": channel, "retried": total, "channels": [f"{k}:{n}" for k, n in touched.items()]}
    log.info("retrying every dead delivery", extra=extra)
    return total


async def send_test(state: BridgeState, receiver: str, *, via: str) -> dict[str, object]:
    """What `allim-bridge send-test` sends: a sample firing notification now, its resolved one shortly after,
    accepted like a webhook; the firing one's answer (`accepted` with its id)."""
    if receiver not in state.receivers:
        raise unknown_receiver(state, receiver)
    started = datetime.now(UTC)
    answer = await accept(state, notification_from_webhook(sample_payload(receiver, "firing", started), receiver))
    task = asyncio.create_task(_resolve_later(state, receiver, started), name=f"send test {receiver}")
    state.tasks.append(task)
    task.add_done_callback(state.tasks.remove)
    log.info("sending a test notification", extra={"via": via, "receiver": receiver, "notification": answer.get("id")})
    return answer


async def _resolve_later(state: BridgeState, receiver: str, started: datetime) -> None:
    await asyncio.sleep(SEND_TEST_INTERVAL)
    try:
        await accept(state, notification_from_webhook(sample_payload(receiver, "resolved", started), receiver))
    except Rejected as exc:
        log.warning("the send test's resolved notification was not accepted", extra={"err": exc.reason})
