"""Alertmanager's webhook payload (version "4"), parsed into a Notification (bridge/notification.py).

Parsing is lenient: unknown keys (newer Alertmanagers add `notification_reason`, `routeLabels`, ...)
are ignored, and missing optional fields get empty values. A body that is not a version-4 payload
raises PayloadError with a one-line reason.
"""

from __future__ import annotations

from datetime import datetime

from bridge.notification import Alert, Notification, PayloadError


def parse_time(value: object) -> datetime | None:
    """RFC 3339 time; None for missing values and Go's zero time (`0001-01-01T00:00:00Z`, "not ended")."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _str_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _alert(raw: object, i: int, group_status: object) -> Alert:
    if not isinstance(raw, dict):
        raise PayloadError(f"alerts[{i}] must be an object")
    status = raw.get("status", group_status)
    if status not in ("firing", "resolved"):
        raise PayloadError(f"alerts[{i}].status must be firing or resolved")
    return Alert(
        status=status,
        labels=_str_map(raw.get("labels"), f"alerts[{i}].labels"),
        annotations=_str_map(raw.get("annotations"), f"alerts[{i}].annotations"),
        starts_at=parse_time(raw.get("startsAt")),
        ends_at=parse_time(raw.get("endsAt")),
        generator_url=str(raw.get("generatorURL") or ""),
        fingerprint=str(raw.get("fingerprint") or ""),
    )


def notification_from_webhook(payload: object, receiver: str | None = None) -> Notification:
    """Parse a decoded webhook body; `receiver` (from the URL) overrides the body's."""
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    version = payload.get("version")
    if str(version) != "4":
        raise PayloadError(f'unsupported payload version {version!r}, expected "4"')
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise PayloadError("alerts must be a non-empty list")
    alerts = tuple(_alert(raw, i, payload.get("status")) for i, raw in enumerate(raw_alerts))
    status = payload.get("status")
    if status not in ("firing", "resolved"):
        status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
    truncated = payload.get("truncatedAlerts")
    return Notification(
        receiver=receiver or str(payload.get("receiver") or ""),
        status=status,
        alerts=alerts,
        group_key=str(payload.get("groupKey") or ""),
        group_labels=_str_map(payload.get("groupLabels"), "groupLabels"),
        common_labels=_str_map(payload.get("commonLabels"), "commonLabels"),
        common_annotations=_str_map(payload.get("commonAnnotations"), "commonAnnotations"),
        external_url=str(payload.get("externalURL") or ""),
        truncated_alerts=truncated if isinstance(truncated, int) else 0,
    )
