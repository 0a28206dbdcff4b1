"""The harness's pure parts: figures from allim-backtest's JSON, page delays, the rule comparison, the README table."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.corpus import clock, generate, goal, scenario, table


def _score(family: str, role: str, false_alerts: int) -> dict[str, Any]:
    counts = {"incidents": 2, "caught": 2, "false_alerts": false_alerts, "false_alerts_per_week": false_alerts / 8}
    return {"family": family, "rule_set": role, "median_detect_seconds": 120.0, **counts}


def _result(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [_score(f, role, 4) for f in scenario.FAMILIES for role in goal.ROLES]
    return {"alerts": alerts, "baseline_alerts": [], "scores": scores}


def test_figures_count_false_alerts_per_series_per_four_weeks() -> None:
    found = goal.figures(_result([]))
    assert list(found) == list(scenario.FAMILIES)
    assert found["Ga4"]["rules"].false_alerts_per_series_per_4_weeks == 4 / (clock.WEEKS / 4)
    hetrixtools = found["HetrixTools"]["baseline"].false_alerts_per_series_per_4_weeks
    assert hetrixtools == 4 / (scenario.series_weeks("HetrixTools") / 4) > 4 / (5 * clock.WEEKS / 4)


def _alert(event: scenario.Event, after: float, **labels: str) -> dict[str, Any]:
    return {"alertname": "HetrixToolsMonitorDown", "labels": {**event.labels, **labels},
            "start": clock.unix(event.first) + after, "end": None}  # fmt: skip


def test_page_delays_count_only_critical_alerts_of_the_incidents_monitor() -> None:
    outage = next(e for e in scenario.incidents() if e.name == "api-outage-gateway")
    flapping = next(e for e in scenario.incidents() if e.kind == "flapping")
    alerts = [
        _alert(outage, 60, severity="high"),
        _alert(outage, 90, severity="critical", monitor_id="someone-else"),
        _alert(outage, 150, severity="critical"),
        _alert(flapping, -30 * 60, severity="critical"),  # before the tolerance: not this incident's page
    ]
    delays = goal.page_delays(_result(alerts))
    assert delays["api-outage-gateway"] == 150
    assert delays["payments-flapping"] is None
    assert set(delays) == {e.name for e in scenario.incidents() if e.family == "HetrixTools"}


def test_same_rules_ignores_annotations_not_expressions(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(generate.OLD_RULES, copy)
    assert goal.same_rules(copy, generate.OLD_RULES)
    host = copy / "host.yml"
    host.write_text(host.read_text().replace("CPU usage above 80%", "CPU busy"))
    assert goal.same_rules(copy, generate.OLD_RULES)
    host.write_text(host.read_text().replace("host_cpu_usage_ratio > 0.8", "host_cpu_usage_ratio > 0.9"))
    assert not goal.same_rules(copy, generate.OLD_RULES)


def test_durations_read_in_both_languages() -> None:
    assert [table.duration(s, "en") for s in (None, 90, 600, 7 * 3600 + 590)] == [
        "-",
        "1.5 min",
        "10 min",
        "7 h 10 min",
    ]
    assert [table.duration(s, "ko") for s in (None, 90, 600, 7 * 3600 + 590)] == ["-", "1.5분", "10분", "7시간 10분"]


def test_write_replaces_only_the_table_under_the_heading(tmp_path: Path) -> None:
    for language, readme in table.READMES.items():
        copy = tmp_path / readme.name
        shutil.copy(readme, copy)
        before = copy.read_text(encoding="utf-8")
        rows = table.rows(goal.figures(_result([])), language)
        table.write(table.markdown(rows, language), language, copy)
        assert table.published(language, copy) == rows
        after = copy.read_text(encoding="utf-8")
        assert len(after.splitlines()) == len(before.splitlines()) - len(table.published(language)) + len(rows)
        assert after.split(table.HEADINGS[language])[0] == before.split(table.HEADINGS[language])[0]
