"""The old alert system's push API body, as a Notification, so existing scripts keep working unchanged.

    {"rule_name": "HighErrorRate", "severity": "critical",
     "metric_data": {"metric_value": 42, "additional_info": "errors in the last 5 minutes",
                     "sentry_data": {"project": "web", "issue_url": "https://sentry.example/issues/1"}}}

`rule_name` becomes the alertname; `metric_value` the `value` annotation; `additional_info` the summary.
Each `<source>_data` object adds `source=<source>` and its short scalar entries as labels (project, monitor,
host...: what the formats show as details); long, multi-line or nested entries become annotations.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from bridge.notification import Alert, Notification, PayloadError

RESERVED = {"alertname", "severity", "source"}
MAX_LABEL_VALUE = 120


def _key(name: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "value"
    return f"_{key}" if key[0].isdigit() else key


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _add_details(source: str, data: dict[str, object], labels: dict[str, str], annotations: dict[str, str]) -> None:
    for raw_key, value in data.items():
        key = _key(str(raw_key))
        if key in RESERVED or key in labels:
            key = f"{source}_{key}"
        text = _text(value)
        short = not isinstance(value, dict | list) and len(text) <= MAX_LABEL_VALUE and "\n" not in text
        if value is not None and short:
            labels[key] = text
        elif value is not None:
            annotations[key] = text


def notification_from_legacy(body: object, receiver: str, now: datetime | None = None) -> Notification:
    """Map the old `POST /api/alerts/send` body; PayloadError (a 400) names what is wrong."""
    if not isinstance(body, dict):
        raise PayloadError("body must be a JSON object")
    rule = body.get("rule_name")
    if not isinstance(rule, str) or not rule.strip():
        raise PayloadError("rule_name must be a non-empty string")
    metric_data = body.get("metric_data")
    metric_data = {} if metric_data is None else metric_data
    if not isinstance(metric_data, dict):
        raise PayloadError("metric_data must be an object")
    status = body.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise PayloadError("status must be firing or resolved")
    labels = {"alertname": rule.strip(), "severity": str(body.get("severity") or "warning").lower()}
    annotations: dict[str, str] = {}
    value = metric_data.get("metric_value")
    if value is not None:
        annotations["value"] = _text(value)
    info = metric_data.get("additional_info")
    annotations["summary"] = (
        _text(info) if info not in (None, "") else f"{rule.strip()}: {annotations.get('value', '')}"
    )
    for key, data in metric_data.items():
        if key in ("metric_value", "additional_info"):
            continue
        if str(key).endswith("_data") and isinstance(data, dict):
            source = _key(str(key)[: -len("_data")])
            labels.setdefault("source", source)
            _add_details(source, data, labels, annotations)
        elif data is not None:
            annotations[_key(str(key))] = _text(data)
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    started = now or datetime.now(UTC)
    alert = Alert(
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=started,
        ends_at=started if status == "resolved" else None,
        fingerprint=fingerprint,
    )
    return Notification(
        receiver=receiver,
        status=status,
        alerts=(alert,),
        group_key=f"legacy:{fingerprint}",
        group_labels={"alertname": labels["alertname"]},
        common_labels=dict(labels),
        common_annotations=dict(annotations),
    )
