"""The exact text a notification's channels send (or would send): each channel's `preview`, made by its own
formatter, for the console's detail page and `GET /api/notifications/{id}`.

Rendered now, with the running config: a delivery sent before a config change went out in the words of then.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bridge.notification import Notification
from bridge.state import BridgeState


@runtime_checkable
class Previewing(Protocol):
    """A channel that can show what it sends: (title, text) per part (a Discord message, the mail's parts)."""

    def preview(self, notification: Notification) -> list[tuple[str, str]]: ...


def previews(state: BridgeState, notification: Notification, deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per delivery: its channel key, target and parts (`[]` with a `note` when the channel cannot show them)."""
    shown = []
    for delivery in deliveries:
        worker = state.dispatcher.workers.get(delivery["channel_key"])
        entry: dict[str, Any] = {"channel_key": delivery["channel_key"], "target": delivery["target"], "parts": []}
        if worker is None:
            entry["note"] = "not configured any more"
        elif not isinstance(worker.channel, Previewing):
            entry["note"] = "this channel has no preview"
        else:
            entry["parts"] = [{"title": t, "text": text} for t, text in worker.channel.preview(notification)]
        shown.append(entry)
    return shown
