"""What the command prints: a table of alerts and scores for people, or one JSON object for programs."""

from __future__ import annotations

from typing import Any, TextIO

from allim.backtest.alerts import Alert
from allim.backtest.durations import format_duration, format_time
from allim.backtest.run import Result
from allim.backtest.selectors import format_labels


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "alertname": alert.alertname,
        "labels": {key: value for key, value in sorted(alert.labels.items()) if key != "alertname"},
        "start": alert.start / 1000,
        "end": None if alert.end is None else alert.end / 1000,
        "active_at": alert.active_at / 1000,
    }


def result_json(result: Result) -> dict[str, Any]:
    """`{"alerts": [...], "scores": [...]}` (+ the baseline's alerts, the range and the lookback delta used)."""
    document: dict[str, Any] = {
        "alerts": [alert_json(alert) for alert in result.results[0].alerts],
        "scores": [one.as_json() | {"rule_set": run.role} for run in result.results for one in run.scores],
        "range": {"start": result.first_ms / 1000, "end": result.last_ms / 1000},
        "lookback_delta_seconds": result.lookback_ms / 1000,
        "rules": result.results[0].rule_set.title,
    }
    if len(result.results) > 1:
        document["baseline"] = result.results[1].rule_set.title
        document["baseline_alerts"] = [alert_json(alert) for alert in result.results[1].alerts]
    return document


def print_tables(result: Result, out: TextIO) -> None:
    for run in result.results:
        heading = f"Alerts of {run.rule_set.title}" + (" (baseline)" if run.role == "baseline" else "")
        print(
            f"{heading}: {len(run.alerts)} between {format_time(result.first_ms)} and {format_time(result.last_ms)}",
            file=out,
        )
        rows = [
            [
                alert.alertname,
                format_labels(_shown_labels(alert)),
                format_time(alert.start),
                format_time(alert.end) if alert.end is not None else "(firing)",
                format_duration((alert.end if alert.end is not None else result.last_ms) - alert.start),
            ]
            for alert in run.alerts
        ]
        print(table(["ALERT", "LABELS", "START", "END", "FOR"], rows), file=out)
        print(file=out)
    if result.incidents:
        print_scores(result, out)


def print_scores(result: Result, out: TextIO) -> None:
    print(f"Scores against {len(result.incidents)} labelled incident(s):", file=out)
    rows = []
    families = list(dict.fromkeys(one.family for run in result.results for one in run.scores))
    for family in families:
        for run in result.results:
            for one in run.scores:
                if one.family != family:
                    continue
                detect = (
                    "-"
                    if one.median_detect_seconds is None
                    else format_duration(round(one.median_detect_seconds * 1000))
                )
                rows.append(
                    [
                        family if run.role == "rules" else "",
                        run.role,
                        str(one.incidents),
                        str(one.caught),
                        detect,
                        str(one.false_alerts),
                        f"{one.false_alerts_per_week:.2f}",
                        f"{one.alert_hours:.1f}",
                    ]
                )
    headers = ["FAMILY", "RULES", "INCIDENTS", "CAUGHT", "MEDIAN DETECT", "FALSE ALERTS", "FALSE/WEEK", "ALERT-HOURS"]
    print(table(headers, rows), file=out)
    for run in result.results:
        print(f"  {run.role}: {run.rule_set.title}", file=out)


def _shown_labels(alert: Alert) -> dict[str, str]:
    return {key: value for key, value in alert.labels.items() if key != "alertname"}


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; `(none)` under the headers when there are no rows."""
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    ]
    return "\n".join(lines if rows else [*lines, "(none)"])
