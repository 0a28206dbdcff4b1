"""allim-backtest end to end in Debian's prometheus and promtool: alerts, JSON, CSV, scores, baseline, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.backtest.support import DEMO_RULES, START, Backtest, csv_text, demo_samples, openmetrics


@pytest.fixture
def backtest(tmp_path: Path) -> Backtest:
    return Backtest(tmp_path)


def at(minute: int) -> float:
    return float(START + minute * 60)


def test_cli_lists_the_alerts_the_rules_would_have_fired(backtest: Backtest) -> None:
    rules = backtest.write("rules.yml", DEMO_RULES)
    history = backtest.write("history.om", openmetrics(demo_samples()))
    outcome = backtest.run("--rules", rules, "--history", history, "--json")
    assert outcome.code == 0, outcome.err
    document = json.loads(outcome.out)
    # Down: pending 10:30, fires 10:32 (for: 2m), resolved 10:45; the two-minute dip at 11:00 stays pending.
    # LowAvg reads job:up:low, which reads job:up:avg5m (two recording levels): avg over [t-5m, t] < 0.5 from
    # 10:33 to 10:46, then keep_firing_for 3m from 10:47: resolved 10:50, as live staleness would have it.
    assert document["alerts"] == [
        {
            "alertname": "Down",
            "labels": {"job": "a", "severity": "critical"},
            "start": at(32),
            "end": at(45),
            "active_at": at(30),
        },
        {"alertname": "LowAvg", "labels": {"job": "a"}, "start": at(33), "end": at(50), "active_at": at(33)},
    ]
    assert document["scores"] == []
    assert document["range"] == {"start": at(0), "end": at(179)}
    assert document["lookback_delta_seconds"] == 59.999  # on the grid: just under the sampling interval
    assert backtest.leftovers() == [] and backtest.prometheus_pids() == []
    assert "recording level 2/2" in outcome.err


def test_cli_table_names_alert_labels_start_and_end(backtest: Backtest) -> None:
    samples = demo_samples(40)  # ends at 10:39, while both still fire
    outcome = backtest.run(
        "--rules",
        backtest.write("r.yml", DEMO_RULES),
        "--history",
        backtest.write("h.om", openmetrics(samples)),
        "--quiet",
    )
    assert outcome.code == 0, outcome.err
    assert outcome.err == ""
    lines = outcome.out.splitlines()
    assert lines[0].startswith("Alerts of ") and "2 between 2024-05-01 10:00:00Z and 2024-05-01 10:39:00Z" in lines[0]
    assert lines[1].split() == ["ALERT", "LABELS", "START", "END", "FOR"]
    assert " ".join(lines[2].split()) == 'Down job="a", severity="critical" 2024-05-01 10:32:00Z (firing) 7m'
    assert " ".join(lines[3].split()) == 'LowAvg job="a" 2024-05-01 10:33:00Z (firing) 6m'


def test_cli_csv_history_gives_the_same_alerts(backtest: Backtest) -> None:
    rules = backtest.write("rules.yml", DEMO_RULES)
    from_om = backtest.run("--rules", rules, "--history", backtest.write("h.om", openmetrics(demo_samples())), "--json")
    from_csv = backtest.run("--rules", rules, "--history", backtest.write("h.csv", csv_text(demo_samples())), "--json")
    assert from_csv.code == 0, from_csv.err
    assert json.loads(from_csv.out)["alerts"] == json.loads(from_om.out)["alerts"] != []


def test_cli_off_grid_history_gets_the_sampling_interval_as_lookback(backtest: Backtest) -> None:
    shifted = {series: [(ts + 17, value) for ts, value in points] for series, points in demo_samples().items()}
    outcome = backtest.run(
        "--rules",
        backtest.write("r.yml", DEMO_RULES),
        "--history",
        backtest.write("h.om", openmetrics(shifted)),
        "--json",
    )
    document = json.loads(outcome.out)
    assert document["lookback_delta_seconds"] == 60.0
    down = [alert for alert in document["alerts"] if alert["alertname"] == "Down"]
    # The first zero is scraped at 10:30:17, so the evaluation at 10:31 is the first to see it; 10:45:17 is up again.
    assert [(a["active_at"], a["start"], a["end"]) for a in down] == [(at(31), at(33), at(46))]


INCIDENTS = """- family: Down
  start: 2024-05-01T10:30:00Z
  end: 2024-05-01T10:45:00Z
  labels: {job: a}
- family: [LowAvg]
  start: 2024-05-01T10:30:00Z
  end: 2024-05-01T10:45:00Z
"""

BASELINE_RULES = """groups:
  - name: old
    rules:
      - alert: Down
        expr: up == 0
        for: 10m
      - alert: Down
        expr: up < 1
        labels: {severity: info}
"""


def demo_with_incidents(backtest: Backtest) -> list[object]:
    """--rules, --history and --incidents of the demo: Down 10:30-10:45 labelled as an incident of two families."""
    rules = backtest.write("rules.yml", DEMO_RULES)
    history = backtest.write("h.om", openmetrics(demo_samples()))
    return ["--rules", rules, "--history", history, "--incidents", backtest.write("incidents.yml", INCIDENTS)]


def test_cli_scores_both_rule_sets_side_by_side(backtest: Backtest) -> None:
    args = [
        *demo_with_incidents(backtest),
        "--baseline",
        backtest.write("old.yml", BASELINE_RULES),
        "--grace",
        "10m",
    ]
    document = json.loads(backtest.run(*args, "--json").out)
    rows = {(row["family"], row["rule_set"]): row for row in document["scores"]}
    assert rows.keys() == {("Down", "rules"), ("Down", "baseline"), ("LowAvg", "rules"), ("LowAvg", "baseline")}
    assert rows["Down", "rules"] | {"rules": ""} == {
        "family": "Down",
        "rules": "",
        "rule_set": "rules",
        "incidents": 1,
        "caught": 1,
        "median_detect_seconds": 120.0,
        "false_alerts": 0,
        "false_alerts_per_week": 0.0,
        "alert_hours": round(13 / 60, 3),
        "weeks": round(179 / (7 * 24 * 60), 3),
    }
    # The old rules: `for: 0` catches it at once and also fires on the 11:00 dip, past the 10m grace (false).
    assert (rows["Down", "baseline"]["caught"], rows["Down", "baseline"]["median_detect_seconds"]) == (1, 0.0)
    assert rows["Down", "baseline"]["false_alerts"] == 1
    assert rows["LowAvg", "baseline"]["incidents"] == 1 and rows["LowAvg", "baseline"]["caught"] == 0
    assert [alert["alertname"] for alert in document["baseline_alerts"]] == ["Down", "Down", "Down"]

    table = backtest.run(*args, "--quiet").out
    scores = table[table.index("Scores against 2 labelled incident(s):") :].splitlines()
    assert scores[1].split() == [
        "FAMILY",
        "RULES",
        "INCIDENTS",
        "CAUGHT",
        "MEDIAN",
        "DETECT",
        "FALSE",
        "ALERTS",
        "FALSE/WEEK",
        "ALERT-HOURS",
    ]
    assert scores[2].split()[:6] == ["Down", "rules", "1", "1", "2m", "0"]
    assert scores[3].split()[:5] == ["baseline", "1", "1", "0s", "1"]
    assert "Alerts of " in table and "(baseline): 3 between" in table


def test_cli_report_draws_each_series_and_an_index(backtest: Backtest) -> None:
    report = backtest.dir / "report"
    outcome = backtest.run(*demo_with_incidents(backtest), "--report", report, "--quiet")
    assert outcome.code == 0, outcome.err
    pictures = sorted(report.glob("*.png"))
    assert len(pictures) == 2
    assert all(picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for picture in pictures)
    index = (report / "index.html").read_text()
    assert all(f'src="{picture.name}"' in index for picture in pictures)
    assert "LowAvg" in index and "2024-05-01 10:32:00Z" in index and "Scores" in index
    assert "up{job=&#34;a&#34;}" in index  # escaped


def test_cli_report_without_matplotlib_names_the_extra(backtest: Backtest) -> None:
    python = [
        "python3" if False else __import__("sys").executable,
        "-c",
        "import sys; sys.modules['matplotlib'] = None; from allim.backtest.cli import main; sys.exit(main())",
    ]
    outcome = backtest.run(
        "--rules",
        backtest.write("r.yml", DEMO_RULES),
        "--history",
        backtest.write("h.om", openmetrics(demo_samples())),
        "--report",
        backtest.dir / "out",
        python=python,
    )
    assert (outcome.code, outcome.err) == (
        2,
        "allim-backtest: --report needs matplotlib, the optional extra: pip install 'allim[backtest]'\n",
    )
