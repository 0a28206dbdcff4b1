"""The bridge's own metrics, on a private registry (the names mirror Alertmanager's notifier metrics)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import Counter, Gauge, Histogram

from allim.metrics import new_registry
from bridge.config import ReceiverConfig

DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = new_registry()
        r = self.registry
        self.notifications = Counter(
            "allim_bridge_notifications", "Notifications delivered, by channel", ["channel"], registry=r
        )
        self.failed = Counter(
            "allim_bridge_notifications_failed",
            "Notifications given up on (dead), by channel and reason",
            ["channel", "reason"],
            registry=r,
        )
        self.requests = Counter(
            "allim_bridge_notification_requests",
            "Delivery attempts, retries included, by channel",
            ["channel"],
            registry=r,
        )
        self.requests_failed = Counter(
            "allim_bridge_notification_requests_failed",
            "Failed delivery attempts (retried or not), by channel and reason",
            ["channel", "reason"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "allim_bridge_delivery_seconds",
            "Time from accepting a notification to its delivery, by channel",
            ["channel"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.pending = Gauge(
            "allim_bridge_outbox_pending",
            "Deliveries accepted, not yet sent nor dead",
            ["channel"],
            registry=r,
        )
        self.duplicates = Counter(
            "allim_bridge_duplicates", "Notifications acknowledged but not sent again (duplicates)", registry=r
        )
        self.webhook_requests = Counter(
            "allim_bridge_webhook_requests", "Requests to the write endpoints, by HTTP status", ["code"], registry=r
        )
        self.template_errors = Counter(
            "allim_bridge_template_errors",
            "Renderings where a receiver template failed and the built-in text was sent instead, by receiver",
            ["receiver"],
            registry=r,
        )

    def template_error_counter(self, receivers: Mapping[str, ReceiverConfig]) -> Callable[[str], None]:
        """Formatting.on_template_error for the channels the app builds; 0 is exposed from the start for every
        receiver with templates, so increase() sees the first failure."""
        for name, receiver in receivers.items():
            if receiver.formatting.templates:
                self.template_errors.labels(name)
        return lambda receiver: self.template_errors.labels(receiver).inc()

    def watch_pending(self, channel: str, count: Callable[[], float]) -> None:
        """Read the outbox's in-memory pending count at scrape time (no disk access on /metrics)."""
        self.pending.labels(channel).set_function(count)
        for name in ("notifications", "requests", "delivery_seconds"):
            getattr(self, name).labels(channel)  # expose 0 from the start, so rate() works at once
