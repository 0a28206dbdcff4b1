"""Scores: caught within the window or a tolerance before it, detect time, false alerts outside windows and grace."""

from __future__ import annotations

from allim.backtest.alerts import Alert
from allim.backtest.incidents import Family, Incident
from allim.backtest.rules import Rule
from allim.backtest.scoring import score

MIN = 60_000
HOUR = 60 * MIN
WEEK = 7 * 24 * HOUR


def alert(name: str, start_min: int, end_min: int | None, **labels: str) -> Alert:
    rule = Rule("r.yml", "g", name, "x", MIN, alerting=True)
    end = None if end_min is None else end_min * MIN
    return Alert(rule, {"alertname": name, **labels}, start_min * MIN, start_min * MIN, end)


def incident(family: str, start_min: int, end_min: int, number: int = 1, **labels: str) -> Incident:
    return Incident(Family(family, prefix=family), start_min * MIN, end_min * MIN, labels, number)


def scores_of(alerts: list[Alert], incidents: list[Incident], last_min: int = 7 * 24 * 60) -> dict[str, object]:
    (one,) = score(alerts, incidents, 0, last_min * MIN, tolerance_ms=10 * MIN, grace_ms=HOUR, rules="new")
    return one.as_json()


def test_scoring_caught_detect_time_and_alert_hours() -> None:
    got = scores_of(
        [
            alert("HetrixToolsMonitorDown", 103, 130, monitor="web"),
            alert("HetrixToolsBurnRate", 110, 190, monitor="web"),
        ],
        [incident("HetrixTools", 100, 130, monitor="web")],
    )
    assert got["incidents"] == 1 and got["caught"] == 1
    assert got["median_detect_seconds"] == 180.0  # the first alert, 3 minutes in
    assert got["false_alerts"] == 0
    assert got["alert_hours"] == round((27 + 80) / 60, 3)
    assert got["weeks"] == 1.0


def test_scoring_alert_up_to_the_tolerance_before_the_window_counts_as_zero_delay() -> None:
    got = scores_of([alert("HostDiskFillingUp", 92, 200)], [incident("Host", 100, 300)])
    assert (got["caught"], got["median_detect_seconds"], got["false_alerts"]) == (1, 0.0, 0)


def test_scoring_alert_before_the_tolerance_is_false_and_does_not_catch() -> None:
    got = scores_of([alert("HostDiskFillingUp", 80, 200)], [incident("Host", 100, 300)])
    assert (got["caught"], got["median_detect_seconds"], got["false_alerts"]) == (0, None, 1)


def test_scoring_alert_in_the_grace_after_the_end_is_not_false_but_not_a_catch() -> None:
    got = scores_of([alert("Ga4TrafficDrop", 150, 160)], [incident("Ga4", 100, 120)])
    assert (got["caught"], got["false_alerts"]) == (0, 0)
    got = scores_of([alert("Ga4TrafficDrop", 181, 190)], [incident("Ga4", 100, 120)])
    assert (got["caught"], got["false_alerts"]) == (0, 1)


def test_scoring_labels_tie_alerts_to_their_incident() -> None:
    got = scores_of(
        [alert("SentryErrorSpike", 105, 120, project="api"), alert("SentryErrorSpike", 105, 120, project="web")],
        [incident("Sentry", 100, 130, project="api")],
    )
    assert (got["caught"], got["false_alerts"]) == (1, 1)


def test_scoring_other_families_do_not_count() -> None:
    got = scores_of(
        [alert("SentryErrorSpike", 105, 120), alert("HostCpuUsageHigh", 500, 510)], [incident("Host", 100, 130)]
    )
    assert (got["caught"], got["false_alerts"], got["alert_hours"]) == (0, 1, round(10 / 60, 3))


def test_scoring_median_over_caught_incidents_and_false_alerts_per_week() -> None:
    incidents = [incident("Host", 100, 130, 1), incident("Host", 1000, 1030, 2), incident("Host", 5000, 5030, 3)]
    alerts = [
        alert("HostX", 101, 110),
        alert("HostX", 1005, 1010),
        alert("HostX", 9000, 9010),
        alert("HostX", 9500, None),
    ]
    got = scores_of(alerts, incidents, last_min=2 * WEEK // MIN)
    assert (got["incidents"], got["caught"], got["median_detect_seconds"]) == (3, 2, 180.0)
    assert (got["false_alerts"], got["false_alerts_per_week"]) == (2, 1.0)
    assert got["alert_hours"] == round((9 + 5 + 10 + (2 * WEEK // MIN - 9500)) / 60, 3)


def test_scoring_one_row_per_family_in_file_order() -> None:
    rows = score(
        [], [incident("Sentry", 1, 2), incident("Host", 1, 2), incident("Sentry", 5, 6)], 0, WEEK, MIN, MIN, "r"
    )
    assert [(row.family, row.incidents, row.caught) for row in rows] == [("Sentry", 2, 0), ("Host", 1, 0)]
