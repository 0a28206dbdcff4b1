"""Scores per alert family against labelled incidents.

- caught: an alert of the family whose labels include the incident's starts inside the window, or up to
  `tolerance` before it (people label an incident's start a little late);
- detect time: from the incident's start to the first such alert's start (0 when the alert came first), median over
  the caught incidents;
- false alerts: alerts of the family that start outside every window of an incident of that family whose labels
  they include, each window stretched by `tolerance` before and `grace` after (an alert that starts while the
  signal settles after an incident is its echo, not a new page);
- alert-hours: the time alerts of the family spent firing (to the end of the history for those still firing).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from allim.backtest.alerts import Alert
from allim.backtest.incidents import Family, Incident

WEEK_MS = 7 * 86_400_000


@dataclass(frozen=True)
class Score:
    family: str
    rules: str
    incidents: int
    caught: int
    median_detect_seconds: float | None
    false_alerts: int
    false_alerts_per_week: float
    alert_hours: float
    weeks: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def score(
    alerts: list[Alert],
    incidents: list[Incident],
    first_ms: int,
    last_ms: int,
    tolerance_ms: int,
    grace_ms: int,
    rules: str,
) -> list[Score]:
    """One score per family named in the incidents, in the order the file names them."""
    families: dict[str, Family] = {}
    for incident in incidents:
        families.setdefault(incident.family.name, incident.family)
    weeks = max(last_ms - first_ms, 1) / WEEK_MS
    scores = []
    for family in families.values():
        mine = [incident for incident in incidents if incident.family.name == family.name]
        theirs = [alert for alert in alerts if family.covers(alert.alertname)]
        detections = [_detect_ms(incident, theirs, tolerance_ms) for incident in mine]
        caught = [delay for delay in detections if delay is not None]
        false = [alert for alert in theirs if not _explained(alert, mine, tolerance_ms, grace_ms)]
        hours = sum(((alert.end if alert.end is not None else last_ms) - alert.start) for alert in theirs) / 3_600_000
        scores.append(
            Score(
                family=family.name,
                rules=rules,
                incidents=len(mine),
                caught=len(caught),
                median_detect_seconds=statistics.median(caught) / 1000 if caught else None,
                false_alerts=len(false),
                false_alerts_per_week=round(len(false) / weeks, 3),
                alert_hours=round(hours, 3),
                weeks=round(weeks, 3),
            )
        )
    return scores


def _detect_ms(incident: Incident, alerts: list[Alert], tolerance_ms: int) -> int | None:
    starts = [
        alert.start
        for alert in alerts
        if incident.start - tolerance_ms <= alert.start <= incident.end and incident.matches(alert.labels)
    ]
    return max(0, min(starts) - incident.start) if starts else None


def _explained(alert: Alert, incidents: list[Incident], tolerance_ms: int, grace_ms: int) -> bool:
    return any(
        incident.start - tolerance_ms <= alert.start <= incident.end + grace_ms and incident.matches(alert.labels)
        for incident in incidents
    )
