"""Every bad input: exit 2 with one line naming what was wrong, and nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.processes import free_port
from tests.backtest.support import DEMO_RULES, Backtest, demo_samples, openmetrics

BAD_RULES = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n"


@pytest.fixture
def backtest(tmp_path: Path) -> Backtest:
    backtest = Backtest(tmp_path)
    backtest.write("rules.yml", DEMO_RULES)
    backtest.write("bad.yml", BAD_RULES)
    backtest.write("h.om", openmetrics(demo_samples(20)))
    backtest.write("backwards.om", "up 1 200\nup 1 100\n# EOF\n")
    backtest.write("garbage.om", "up 1 100\nthis is not a sample\n# EOF\n")
    backtest.write("other.om", "node_load1 1 100\nnode_load1 1 160\n# EOF\n")
    backtest.write("incidents.yml", "- {family: Down, start: 100, end: 200, labels: {job: nope}}\n")
    return backtest


CASES = {
    "rule file promtool rejects": (
        ["--rules", "bad.yml", "--history", "h.om"],
        'allim-backtest: --rules: promtool check rules rejects bad.yml: 5:15: group "g", rule 1, "A": could not parse',
    ),
    "non-monotonic timestamps": (
        ["--rules", "rules.yml", "--history", "backwards.om"],
        "allim-backtest: backwards.om:2: timestamp 100 of up is not after the previous one",
    ),
    "history that does not parse": (
        ["--rules", "rules.yml", "--history", "garbage.om"],
        "allim-backtest: garbage.om:2: ",
    ),
    "history without a series the rules read": (
        ["--rules", "rules.yml", "--history", "other.om"],
        "allim-backtest: --history other.om: none of its series (node_load1) is read by the rules, which read up",
    ),
    "incident for an unknown series": (
        ["--rules", "rules.yml", "--history", "h.om", "--incidents", "incidents.yml"],
        'allim-backtest: --incidents incidents.yml: incident 1: no series in the history has job="nope"',
    ),
    "missing history file": (
        ["--rules", "rules.yml", "--history", "nope.om"],
        "allim-backtest: --history nope.om: cannot read it",
    ),
    "missing rules": (
        ["--rules", "nope.yml", "--history", "h.om"],
        "allim-backtest: --rules nope.yml: no such file or folder",
    ),
    "bad duration": (
        ["--rules", "rules.yml", "--history", "h.om", "--eval-interval", "5x"],
        "allim-backtest: --eval-interval: '5x' is not a duration (like 30s, 5m, 1h30m, 7d)",
    ),
    "bad --since": (
        ["--rules", "rules.yml", "--prometheus-url", "http://127.0.0.1:9", "--since", "a week"],
        "allim-backtest: --since: 'a week' is not a duration",
    ),
    "--prometheus-url without --since": (
        ["--rules", "rules.yml", "--prometheus-url", "http://127.0.0.1:9"],
        "allim-backtest: --since is required with --prometheus-url (like --since 7d)",
    ),
    "unreachable prometheus": (
        ["--rules", "rules.yml", "--prometheus-url", "http://127.0.0.1:{port}", "--since", "1h"],
        "allim-backtest: --prometheus-url http://127.0.0.1:{port}: unreachable (ConnectError",
    ),
    "no history at all": (
        ["--rules", "rules.yml"],
        "allim-backtest: one of the arguments --history --prometheus-url is required",
    ),
    "missing prometheus binary": (
        ["--rules", "rules.yml", "--history", "h.om", "--prometheus-binary", "/nonexistent/prometheus"],
        "allim-backtest: --prometheus-binary: /nonexistent/prometheus is not an executable",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_errors_exit_2_with_one_line(backtest: Backtest, case: str) -> None:
    args, expected = CASES[case]
    port = str(free_port())
    outcome = backtest.run(*(arg.replace("{port}", port) for arg in args), "--quiet", cwd=backtest.dir)
    assert outcome.code == 2, outcome.err
    assert outcome.out == ""
    lines = outcome.err.splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith(expected.replace("{port}", port)), lines[0]
    assert backtest.leftovers() == [] and backtest.prometheus_pids() == []


def test_errors_a_failing_prometheus_exits_1_and_leaves_nothing(backtest: Backtest) -> None:
    outcome = backtest.run(
        "--rules", "rules.yml", "--history", "h.om", "--prometheus-binary", "/bin/false", "--quiet", cwd=backtest.dir
    )
    assert outcome.code == 1, outcome.err
    assert outcome.err.startswith("allim-backtest: failed: prometheus exited with 1"), outcome.err
    assert backtest.leftovers() == []
