"""A real Alertmanager 0.25 webhook body (upstream/local-stack.md §3), for the bridge's tests and benchmark."""

from __future__ import annotations

import copy
from typing import Any

FIRING: dict[str, Any] = {
    "receiver": "hook",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "E2ETextfileToggle", "instance": "127.0.0.1:51739", "job": "node"},
            "annotations": {"summary": "toggle=1 on 127.0.0.1:51739"},
            "startsAt": "2026-11-28T18:39:02.51Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:42257/graph?g0.expr=e2e_probe_toggle+%3E+0&g0.tab=1",
            "fingerprint": "68151c67d99c963b",
        }
    ],
    "groupLabels": {"alertname": "E2ETextfileToggle"},
    "commonLabels": {"alertname": "E2ETextfileToggle", "instance": "127.0.0.1:51739", "job": "node"},
    "commonAnnotations": {"summary": "toggle=1 on 127.0.0.1:51739"},
    "externalURL": "http://127.0.0.1:37833",
    "version": "4",
    "groupKey": '{}:{alertname="E2ETextfileToggle"}',
    "truncatedAlerts": 0,
}


def webhook(n: int = 0, status: str = "firing") -> dict[str, Any]:
    """The real body, made distinct by `n` (its own fingerprint and groupKey)."""
    body = copy.deepcopy(FIRING)
    body["status"] = status
    body["groupKey"] = f'{{}}:{{alertname="Probe{n}"}}'
    alert = body["alerts"][0]
    alert.update(status=status, fingerprint=f"fp{n:014d}")
    alert["labels"] = {**alert["labels"], "alertname": f"Probe{n}"}
    if status == "resolved":
        alert["endsAt"] = "2026-11-28T18:39:04.51Z"
    return body
