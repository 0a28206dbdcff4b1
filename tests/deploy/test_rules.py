"""The Prometheus config and alert rules: promtool checks, promtool unit tests, and the annotation contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import (
    PROMETHEUS_DIR,
    README,
    ROOT,
    RULE_TESTS_DIR,
    RULES_DIR,
    RUNBOOK_BASE,
    alert_rules,
    binary,
    readme_anchors,
    run,
    seconds,
)

SEVERITIES = {"critical", "high", "warning", "info"}
ANNOTATIONS = {"summary", "description", "value", "runbook_url"}
# Korean beside the English, in the same rule (README "Notification formats"); the bridge picks `<key>_<language>`.
KOREAN_ANNOTATIONS = {"summary_ko", "description_ko"}
# Alerts whose value is a state, not a number: the annotation says the state in words.
STATE_VALUES = {"HetrixToolsMonitorDown": "offline"}
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
# A rule file's promtool tests: <stem>.test.yml, and <stem>.<part>.test.yml for cases at another evaluation interval.
TEST_FILES = sorted(RULE_TESTS_DIR.glob("*.test.yml"))


def alerts(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


def promtool_tests_of(rules: Path) -> list[Path]:
    return [path for path in TEST_FILES if path.name.split(".", 1)[0] == rules.stem]


def cases_of(rules: Path) -> list[dict]:
    return [
        case
        for path in promtool_tests_of(rules)
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_rule_files_exist() -> None:
    assert {p.stem for p in RULE_FILES} == {"sentry", "hetrixtools", "ga4", "host", "allim"}


def test_promtool_check_config() -> None:
    result = run(binary("promtool"), "check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.stem)
def test_every_rule_file_has_its_promtool_tests(rules: Path) -> None:
    assert RULE_TESTS_DIR / f"{rules.stem}.test.yml" in promtool_tests_of(rules), (
        f"{rules.name} has no {rules.stem}.test.yml"
    )


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(test_file: Path) -> None:
    rules = test_file.name.split(".", 1)[0]
    assert yaml.safe_load(test_file.read_text())["rule_files"] == [f"../rules/{rules}.yml"]
    result = run(binary("promtool"), "test", "rules", test_file.name, cwd=RULE_TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_test_files_order_the_groups_they_evaluate(test_file: Path) -> None:
    """Without `group_eval_order` promtool evaluates a file's groups in map order, so an alert could read a recorded
    series of the same step or of the step before, and a case's outcome would depend on chance."""
    rules = RULES_DIR / f"{test_file.name.split('.', 1)[0]}.yml"
    groups = [group["name"] for group in yaml.safe_load(rules.read_text())["groups"]]
    if len(groups) > 1:
        assert yaml.safe_load(test_file.read_text())["group_eval_order"] == groups


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels'].get('severity')}")
def test_alert_contract(rule: dict) -> None:
    assert rule["labels"]["severity"] in SEVERITIES
    assert set(rule["annotations"]) >= ANNOTATIONS
    assert set(rule["annotations"]) >= KOREAN_ANNOTATIONS, f"{rule['alert']} has no Korean summary/description"
    assert all(str(rule["annotations"][key]).strip() for key in ANNOTATIONS | KOREAN_ANNOTATIONS)
    assert rule["annotations"]["value"] == STATE_VALUES.get(rule["alert"]) or "$value" in rule["annotations"]["value"]
    assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE + rule["alert"].lower()


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels'].get('severity')}")
def test_alert_for_durations_are_decided(rule: dict) -> None:
    """Every alert waits a `for:` so one bad scrape does not page, except two kinds. The always-firing Watchdog. And
    the SLO burn-rate tiers (label `slo_tier`): the Workbook advises no `for:` there (it restarts at every dip of
    the error ratio, so a monitor flapping down a minute in ten would never page) and the short window already
    debounces. The page holds on with `keep_firing_for` instead, so a flapping monitor is one page, not one per
    flap."""
    if rule["alert"] == "Watchdog":
        assert "for" not in rule
    elif "slo_tier" in rule["labels"]:
        assert "for" not in rule, f"{rule['alert']} ({rule['labels']['slo_tier']}) has a `for:`"
        assert rule["labels"]["slo_tier"] in {"page", "ticket"}
        assert rule["labels"]["severity"] == {"page": "critical", "ticket": "warning"}[rule["labels"]["slo_tier"]]
        assert ("keep_firing_for" in rule) == (rule["labels"]["slo_tier"] == "page")
    else:
        assert rule.get("for"), f"{rule['alert']} has no `for:`"


def test_seasonal_alerts_never_page() -> None:
    """Adaptive-baseline alerts are context (their authors advise against paging on them)."""
    seasonal = [rule for rule in alert_rules() if ":baseline" in rule["expr"] or ":band_" in rule["expr"]]
    assert {rule["alert"] for rule in seasonal} >= {"SentryErrorSpike", "Ga4TrafficSpike", "Ga4TrafficDrop"}
    assert all(rule["labels"]["severity"] in {"warning", "info", "high"} for rule in seasonal)
    assert all(rule["labels"]["severity"] != "critical" for rule in seasonal)


def test_runbook_anchors_exist_in_readme() -> None:
    anchors = readme_anchors()
    missing = {r["alert"] for r in alert_rules() if r["annotations"]["runbook_url"].split("#", 1)[1] not in anchors}
    assert not missing, f"README.md has no `### AlertName` heading for {sorted(missing)}"
    section = README.read_text().split("## Alert reference\n", 1)[1].split("\n## ", 1)[0]
    headings = {line[4:].strip() for line in section.splitlines() if line.startswith("### ")}
    assert {r["alert"] for r in alert_rules()} <= headings


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.stem)
def test_every_alert_has_a_test_case(rules: Path) -> None:
    cases = cases_of(rules)
    tested_firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    tested_quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    names = {r["alert"] for r in alerts(rules)}
    assert names <= tested_firing, f"{rules.name}: no firing case for {sorted(names - tested_firing)}"
    # Watchdog has no threshold, so it has no quiet side.
    assert names - {"Watchdog"} <= tested_quiet, f"{rules.name}: no quiet case for {sorted(names - tested_quiet)}"


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.stem)
def test_every_severity_of_an_alert_is_tested(rules: Path) -> None:
    expected = {
        (case["alertname"], alert["exp_labels"]["severity"])
        for case in cases_of(rules)
        for alert in case.get("exp_alerts") or []
    }
    rules_pairs = {(r["alert"], r["labels"]["severity"]) for r in alerts(rules)}
    assert rules_pairs <= expected, f"{rules.name}: untested {sorted(rules_pairs - expected)}"


# -- history and retention ---------------------------------------------------------------------------------------

_DURATION = r"(?:\d+(?:ms|[smhdwy]))+"
_RANGE = re.compile(rf"\[({_DURATION})(?::{_DURATION}?)?\]")
_OFFSET = re.compile(rf"\boffset\s+({_DURATION})")
# Prometheus' lookback for an instant selector: how far back a sample still counts as now.
LOOKBACK_DELTA = 300


def lookback(expr: str) -> int:
    """How far back from its evaluation an expression reads stored samples (an upper bound: its longest range
    plus its longest offset, or the lookback delta where it has no range)."""
    ranges = [seconds(d) for d in _RANGE.findall(expr)] or [LOOKBACK_DELTA]
    offsets = [seconds(d) for d in _OFFSET.findall(expr)] or [0]
    return max(ranges) + max(offsets)


def compose_retention() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    flags = [arg for arg in compose["services"]["prometheus"]["command"] if "retention.time" in arg]
    (flag,) = flags
    return seconds(flag.split("=", 1)[1])


def all_rules() -> list[dict]:
    return [
        rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
    ]


def test_every_rule_looks_back_no_further_than_compose_keeps() -> None:
    """A rule reads stored samples, its inputs' own recorded series included; none may need more than the 30 days
    docker-compose.yml keeps (a longer look-back would silently see less than it was built for)."""
    keep = compose_retention()
    assert keep == 30 * 86400
    too_long = {rule.get("alert") or rule["record"]: lookback(rule["expr"]) for rule in all_rules()}
    assert max(too_long.values()) <= keep, {name: b for name, b in too_long.items() if b > keep}


def test_what_prometheus_default_retention_leaves_out_is_what_the_readme_says() -> None:
    """README "History each rule needs": with Prometheus' default 15 days the SLO tiers work, the budget left covers
    15 days, the weekly baselines (3 weeks and more) never form, and Sentry's 7-day stand-in is all it has."""
    default = 15 * 86400
    beyond = {rule.get("record") or rule["alert"] for rule in all_rules() if lookback(rule["expr"]) > default}
    assert beyond == {
        "monitor:hetrixtools_monitor_down:ratio_30d",
        "project:sentry_project_errors:same_minute_avg_3h_weeks_ago",
        "property:ga4_active_users:avg_1h_weeks_ago",
    }
    slo = [rule for rule in alert_rules() if "slo_tier" in rule["labels"]]
    assert slo and all(lookback(rule["expr"]) < default for rule in slo)
    section = README.read_text().split("### History each rule needs\n", 1)[1].split("\n### ", 1)[0]
    assert "default of 15 days" in section and "never fire" in section and "stand-in" in section
