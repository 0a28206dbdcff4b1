"""The log channel: one JSON line per notification on stdout, so a bridge without channels still shows them.

Not in the registry: it has no settings, and is what a receiver without channels gets (bridge/receivers.py)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from bridge import view
from bridge.channels import Attempt
from bridge.config import Formatting
from bridge.notification import Notification


class LogChannel:
    """Writes each notification as one JSON object on one line; never fails (stdout is the destination)."""

    name = "log"
    target = "log:stdout"

    def __init__(self, formatting: Formatting, stream: TextIO | None = None) -> None:
        self.formatting = formatting
        self.stream = stream  # None: sys.stdout at the time of sending (tests capture it)

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        stream = self.stream or sys.stdout
        stream.write(json.dumps(self.record(notification), ensure_ascii=False) + "\n")
        stream.flush()

    def record(self, notification: Notification) -> dict[str, object]:
        alerts = view.ordered_alerts(notification)
        return {
            "title": view.headline(notification, self.formatting),
            "severity": alerts[0].severity if alerts else "",
            "status": notification.status,
            "receiver": notification.receiver,
            "group_key": notification.group_key,
            "alerts": [
                {
                    "title": view.title(a, self.formatting),
                    "status": a.status,
                    "severity": a.severity,
                    "summary": a.text("summary", self.formatting.language),
                    "starts_at": a.starts_at.isoformat() if a.starts_at else None,
                    "ends_at": a.ends_at.isoformat() if a.ends_at else None,
                }
                for a in alerts
            ],
            "truncated_alerts": notification.truncated_alerts,
        }

    def preview(self, notification: Notification) -> list[tuple[str, str]]:
        """The line written to stdout (for the console)."""
        return [("stdout", json.dumps(self.record(notification), ensure_ascii=False))]
