"""Alertmanager's webhook payload (version "4") as plain data: what every channel renders.

Parsing is lenient: unknown keys (newer Alertmanagers add `notification_reason`, `routeLabels`, ...)
are ignored, and missing optional fields get empty values. A body that is not a version-4 payload
raises PayloadError with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class PayloadError(ValueError):
    """The body is not a usable notification; the message is the one-line reason sent back (4xx)."""


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


@dataclass(frozen=True)
class Alert:
    status: str  # "firing" | "resolved"
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # None while firing
    generator_url: str = ""
    fingerprint: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def severity(self) -> str:
        """critical | high | warning | info (unknown values read as warning)."""
        value = self.labels.get("severity", "warning").lower()
        return value if value in ("critical", "high", "warning", "info") else "warning"


@dataclass(frozen=True)
class Notification:
    """One Alertmanager notification (or one legacy push): a group of alerts sent to one receiver."""

    receiver: str
    status: str  # "firing" | "resolved"
    alerts: tuple[Alert, ...]
    group_key: str = ""
    group_labels: dict[str, str] = field(default_factory=dict)
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0

    @classmethod
    def from_webhook(cls, payload: object, receiver: str | None = None) -> Notification:
        """Parse a decoded webhook body; `receiver` (from the URL) overrides the body's."""
        if not isinstance(payload, dict):
            raise PayloadError("body must be a JSON object")
        version = payload.get("version")
        if str(version) != "4":
            raise PayloadError(f'unsupported payload version {version!r}, expected "4"')
        raw_alerts = payload.get("alerts")
        if not isinstance(raw_alerts, list) or not raw_alerts:
            raise PayloadError("alerts must be a non-empty list")
        alerts = []
        for i, raw in enumerate(raw_alerts):
            if not isinstance(raw, dict):
                raise PayloadError(f"alerts[{i}] must be an object")
            status = raw.get("status", payload.get("status"))
            if status not in ("firing", "resolved"):
                raise PayloadError(f"alerts[{i}].status must be firing or resolved")
            alerts.append(
                Alert(
                    status=status,
                    labels=_str_map(raw.get("labels"), f"alerts[{i}].labels"),
                    annotations=_str_map(raw.get("annotations"), f"alerts[{i}].annotations"),
                    starts_at=parse_time(raw.get("startsAt")),
                    ends_at=parse_time(raw.get("endsAt")),
                    generator_url=str(raw.get("generatorURL") or ""),
                    fingerprint=str(raw.get("fingerprint") or ""),
                )
            )
        status = payload.get("status")
        if status not in ("firing", "resolved"):
            status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
        truncated = payload.get("truncatedAlerts")
        return cls(
            receiver=receiver or str(payload.get("receiver") or ""),
            status=status,
            alerts=tuple(alerts),
            group_key=str(payload.get("groupKey") or ""),
            group_labels=_str_map(payload.get("groupLabels"), "groupLabels"),
            common_labels=_str_map(payload.get("commonLabels"), "commonLabels"),
            common_annotations=_str_map(payload.get("commonAnnotations"), "commonAnnotations"),
            external_url=str(payload.get("externalURL") or ""),
            truncated_alerts=truncated if isinstance(truncated, int) else 0,
        )

    def dedup_key(self) -> str:
        """Same receiver, groupKey, status and alerts (fingerprint, status, startsAt): the same notification."""
        alerts = sorted(
            (
                a.fingerprint or json.dumps(a.labels, sort_keys=True),
                a.status,
                a.starts_at.isoformat() if a.starts_at else "",
            )
            for a in self.alerts
        )
        raw = json.dumps([self.receiver, self.group_key, self.status, alerts])
        return hashlib.sha256(raw.encode()).hexdigest()

    # -- storage (the outbox keeps notifications as JSON) -------------------------------------
    def to_json(self) -> str:
        def encode(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        data = asdict(self)
        data["alerts"] = [{k: encode(v) for k, v in alert.items()} for alert in data["alerts"]]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Notification:
        data = json.loads(text)
        alerts = tuple(
            Alert(
                **{
                    **a,
                    "starts_at": datetime.fromisoformat(a["starts_at"]) if a["starts_at"] else None,
                    "ends_at": datetime.fromisoformat(a["ends_at"]) if a["ends_at"] else None,
                }
            )
            for a in data.pop("alerts")
        )
        return cls(alerts=alerts, **data)
