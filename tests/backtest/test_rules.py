"""Rule files: folders, promtool's verdict first, the metrics each rule reads, and the recording levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from allim.backtest.errors import InputError
from allim.backtest.rules import RuleSet, load_rule_set
from tests.deploy.support import RULES_DIR, binary

RULES = """groups:
  - name: levels
    interval: 30s
    rules:
      - record: b:x:sum
        expr: sum by (job) (a:x:rate5m)
      - record: a:x:rate5m
        expr: rate(x_total[5m])
      - record: c:x:ratio
        expr: b:x:sum / on (job) group_left sum by (job) (a:x:rate5m) + y
      - alert: XHigh
        expr: c:x:ratio > 1 and z offset 1w > 0
        for: 5m
        keep_firing_for: 10m
        labels: {severity: warning, where: "{{ $labels.job }}"}
"""


def load(tmp_path: Path, text: str = RULES, name: str = "r.yml") -> RuleSet:
    (tmp_path / name).write_text(text)
    return load_rule_set([str(tmp_path / name)], 60_000, binary("promtool"))


def test_rules_levels_follow_what_each_rule_reads(tmp_path: Path) -> None:
    rule_set = load(tmp_path)
    assert [[rule.name for rule in level] for level in rule_set.recording_levels()] == [
        ["a:x:rate5m"],
        ["b:x:sum"],
        ["c:x:ratio"],
    ]
    assert rule_set.raw_metric_names() == {"x_total", "y", "z"}
    (alert,) = rule_set.alerting
    assert (alert.hold_ms, alert.keep_firing_ms, alert.interval_ms) == (300_000, 600_000, 30_000)
    assert rule_set.raw_reads(alert) == {"x_total", "y", "z"}
    assert alert.output_labels({"__name__": "c:x:ratio", "job": "api"}) == {
        "alertname": "XHigh",
        "job": "api",
        "severity": "warning",
        "where": "api",
    }


def test_rules_loop_between_recording_rules_is_bad_input(tmp_path: Path) -> None:
    text = "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: b + 1\n"
    text += "      - record: b\n        expr: a + 1\n"
    rule_set = load(tmp_path, text)
    with pytest.raises(
        InputError, match=r"^--rules: recording rules read each other in a loop: (a -> b -> a|b -> a -> b)$"
    ):
        rule_set.recording_levels()


def test_rules_promtool_rejection_is_the_exit_2_line(tmp_path: Path) -> None:
    text = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(x[5m])\n"
    with pytest.raises(
        InputError,
        match=r"^--rules: promtool check rules rejects .*r\.yml: 5:15: group \"g\", rule 1, \"A\": could not parse",
    ):
        load(tmp_path, text)


def test_rules_folder_takes_its_yaml_files(tmp_path: Path) -> None:
    rule_set = load_rule_set([str(RULES_DIR)], 60_000, binary("promtool"))
    assert {Path(path).name for path in map(str, rule_set.files)} == {p.name for p in RULES_DIR.glob("*.yml")}
    assert "HetrixToolsMonitorDown" in {rule.name for rule in rule_set.alerting}
    with pytest.raises(InputError, match=r"^--rules .*nowhere: no such file or folder$"):
        load_rule_set([str(tmp_path / "nowhere")], 60_000, binary("promtool"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \*\.yml or \*\.yaml rule files in this folder$"):
        load_rule_set([str(tmp_path / "empty")], 60_000, binary("promtool"))
