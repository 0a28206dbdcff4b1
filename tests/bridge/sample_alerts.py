"""Alertmanager payloads for the rendering and channel tests."""

from __future__ import annotations

from typing import Any

from bridge.alertmanager import notification_from_webhook
from bridge.notification import Notification


def alert(
    name: str = "HostDiskAlmostFull",
    status: str = "firing",
    severity: str = "critical",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    fingerprint: str = "68151c67d99c963b",
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": "web-1", "job": "node", **(labels or {})},
        "annotations": {"summary": "Disk almost full", "value": "93%", **(annotations or {})},
        "startsAt": "2026-01-01T10:00:00.51Z",
        "endsAt": "2026-01-01T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk_free+%3C+0.1&g0.tab=1",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any], status: str | None = None, **extra: Any) -> dict[str, Any]:
    alerts = alerts or (alert(),)
    group_status = status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved")
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HostDiskAlmostFull"}',
        "truncatedAlerts": 0,
        "status": group_status,
        "receiver": "ops",
        "groupLabels": {"alertname": "HostDiskAlmostFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
        **extra,
    }


def notification(*alerts: dict[str, Any], **extra: Any) -> Notification:
    return notification_from_webhook(payload(*alerts, **extra))


def many(count: int, labels: dict[str, str] | None = None, **kwargs: Any) -> Notification:
    """A group of `count` alerts, each on its own host."""
    return notification(
        *(
            alert(labels={**(labels or {}), "instance": f"web-{i}"}, fingerprint=f"fp{i}", **kwargs)
            for i in range(count)
        )
    )
