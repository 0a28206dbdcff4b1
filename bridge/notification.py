"""A notification as plain data, whatever brought it in: the type every layer of the bridge works with.

The intakes parse into it (bridge/alertmanager.py for Alertmanager's webhook, bridge/legacy.py for the old push
API); the outbox stores it as JSON; the view, the templates and the channels render it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class PayloadError(ValueError):
    """The body is not a usable notification; the message is the one-line reason sent back (4xx)."""


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

    def text(self, key: str, language: str) -> str:
        """The annotation `key` in `language`: `<key>_<language>` (`summary_ko`) when the rule has it, else `<key>`.

        Per key, so a user's own rules without Korean annotations still read (in their own words), and a rule
        with only `summary_ko` still has its English description."""
        return self.annotations.get(f"{key}_{language}") or self.annotations.get(key, "")

    def texts(self, language: str) -> dict[str, str]:
        """Every annotation picked for `language` (see text): `summary_ko` read as `summary`, and so on."""
        suffix = f"_{language}"
        keys = {k.removesuffix(suffix) for k in self.annotations}
        return {key: self.text(key, language) for key in sorted(keys)}


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
