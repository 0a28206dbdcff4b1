"""The exact text a notification's channels send (or would send): each channel's `preview`, made by its own
formatter, for the console's detail page and `GET /api/notifications/{id}`.

Rendered now, with the running config: a delivery sent before a config change went out in the words of then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from bridge.notification import Notification
from bridge.state import BridgeState

# Why a delivery shows no parts; the console passes its own language's words for the same keys.
NOTES = {"unconfigured": "not configured any more", "no_preview": "this channel has no preview"}


@runtime_checkable
class Previewing(Protocol):
    """A channel that can show what it sends: (title, text) per part (a Discord message, the mail's parts)."""

    def preview(self, notification: Notification) -> list[tuple[str, str]]: ...


def previews(
    state: BridgeState,
    notification: Notification,
    deliveries: list[dict[str, Any]],
    notes: Mapping[str, str] = NOTES,
) -> list[dict[str, Any]]:
    """Per delivery: its channel key, target and parts (`[]` with a `note` from `notes` when the channel cannot
    show them)."""
    shown = []
    for delivery in deliveries:
        worker = state.dispatcher.workers.get(delivery["channel_key"])
        entry: dict[str, Any] = {"channel_key": delivery["channel_key"], "target": delivery["target"], "parts": []}
        if worker is None:
            entry["note"] = notes["unconfigured"]
        elif not isinstance(worker.channel, Previewing):
            entry["note"] = notes["no_preview"]
        else:
            entry["parts"] = [{"title": t, "text": text} for t, text in worker.channel.preview(notification)]
        shown.append(entry)
    return shown
