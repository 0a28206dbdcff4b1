"""A contact list's webhook flips `hetrixtools_monitor_up` before the next poll (served at /webhooks/hetrixtools).

HetrixTools signs nothing, so the URL carries a secret (`?token=`, or a bearer token) compared in constant time
with HETRIXTOOLS_WEBHOOK_TOKEN. The payload is flat (apis.md §2.4):

    {"monitor_id": "...", "monitor_name": "...", "monitor_target": "...", "monitor_type": "service443",
     "monitor_status": "offline", "timestamp": 1499666192, "monitor_errors": {"New York": "timeout"}}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import Metric

from allim.numbers import as_number
from allim.rejected import Rejected, parse_json_object
from exporter.sources.base import WebhookRequest, WebhookResult
from exporter.sources.hetrixtools.source import HetrixToolsSource

# How long a request waits for its change to be rendered before answering anyway (HetrixTools expects speed).
PUBLISH_WAIT = 0.3

log = logging.getLogger("exporter.sources.hetrixtools")


@dataclass(frozen=True)
class MonitorEvent:
    """One state change a webhook reports."""

    monitor_id: str
    up: bool
    timestamp: float | None
    labels: list[str]  # monitor_id, monitor_name, target, monitor_type, as the poll would label them


def event_from_webhook(data: Mapping[str, Any]) -> MonitorEvent:
    """The event in a webhook body; a 400 Rejected naming the first missing or bad field."""
    monitor_id = data.get("monitor_id")
    if not isinstance(monitor_id, str | int) or str(monitor_id).strip() == "":
        raise Rejected(400, "missing field monitor_id")
    status = data.get("monitor_status")
    if status is None:
        raise Rejected(400, "missing field monitor_status")
    if status not in ("online", "offline"):
        raise Rejected(400, f"monitor_status must be online or offline, got {str(status)[:40]!r}")
    # The webhook says "service443"/"smtp25" where the API says "service"/"smtp": label like the API.
    monitor_type = re.sub(r"\d+$", "", str(data.get("monitor_type") or ""))
    labels = [str(monitor_id), str(data.get("monitor_name") or ""), str(data.get("monitor_target") or ""), monitor_type]
    return MonitorEvent(str(monitor_id), status == "online", as_number(data.get("timestamp")), labels)


class HetrixToolsWebhook:
    """Checks the URL token, then holds the reported state for the monitor until a later poll."""

    publish_wait: float | None = PUBLISH_WAIT

    def __init__(self, source: HetrixToolsSource) -> None:
        self.source = source
        if source.config.webhook_token is None:
            log.info(
                "webhook refuses every request until HETRIXTOOLS_WEBHOOK_TOKEN is set",
                extra={"path": "/webhooks/hetrixtools"},
            )

    def authorize(self, request: WebhookRequest) -> None:
        token = self.source.config.webhook_token
        if token is None or not token.matches(request.token):
            raise Rejected(401, "missing or wrong token")

    def receive(self, request: WebhookRequest, body: bytes) -> WebhookResult:
        event = event_from_webhook(parse_json_object(body))
        timestamp = event.timestamp if event.timestamp is not None else self.source.clock()
        if not self.source.apply_webhook(event.monitor_id, event.up, timestamp, event.labels):
            return WebhookResult(False, "ignored: older than the last webhook for this monitor, or too many monitors")
        log.info(
            "monitor state from webhook",
            extra={"source": self.source.name, "monitor_id": event.monitor_id, "up": int(event.up)},
        )
        return WebhookResult(True)

    def families(self) -> list[Metric]:
        # Built right before publishing: a later publish supersedes an earlier one, so it must be the newest state.
        return self.source.build_families()
