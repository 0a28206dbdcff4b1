"""The Prometheus config and alert rules: promtool checks, promtool unit tests, and the annotation contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.support import (
    PROMETHEUS_DIR,
    README,
    RULE_TESTS_DIR,
    RULES_DIR,
    RUNBOOK_BASE,
    alert_rules,
    binary,
    readme_anchors,
    run,
)

SEVERITIES = {"critical", "high", "warning", "info"}
ANNOTATIONS = {"summary", "description", "value", "runbook_url"}
# Korean beside the English, in the same rule (README "Notification formats"); the bridge picks `<key>_<language>`.
KOREAN_ANNOTATIONS = {"summary_ko", "description_ko"}
# Alerts whose value is a state, not a number: the annotation says the state in words.
STATE_VALUES = {"HetrixToolsMonitorDown": "offline"}
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))


def alerts(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


def test_rule_files_exist() -> None:
    assert {p.stem for p in RULE_FILES} == {"sentry", "hetrixtools", "ga4", "host", "allim"}


def test_promtool_check_config() -> None:
    result = run(binary("promtool"), "check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.stem)
def test_promtool_test_rules(rules: Path) -> None:
    test_file = RULE_TESTS_DIR / f"{rules.stem}.test.yml"
    assert test_file.exists(), f"{rules.name} has no promtool test file {test_file.name}"
    assert yaml.safe_load(test_file.read_text())["rule_files"] == [f"../rules/{rules.name}"]
    result = run(binary("promtool"), "test", "rules", test_file.name, cwd=RULE_TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels'].get('severity')}")
def test_alert_contract(rule: dict) -> None:
    assert rule["labels"]["severity"] in SEVERITIES
    assert set(rule["annotations"]) >= ANNOTATIONS
    assert set(rule["annotations"]) >= KOREAN_ANNOTATIONS, f"{rule['alert']} has no Korean summary/description"
    assert all(str(rule["annotations"][key]).strip() for key in ANNOTATIONS | KOREAN_ANNOTATIONS)
    assert rule["annotations"]["value"] == STATE_VALUES.get(rule["alert"]) or "$value" in rule["annotations"]["value"]
    assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE + rule["alert"].lower()
    # Only the always-firing Watchdog may page on the first evaluation.
    assert rule["alert"] == "Watchdog" or rule.get("for"), f"{rule['alert']} has no `for:`"


def test_runbook_anchors_exist_in_readme() -> None:
    anchors = readme_anchors()
    missing = {r["alert"] for r in alert_rules() if r["annotations"]["runbook_url"].split("#", 1)[1] not in anchors}
    assert not missing, f"README.md has no `### AlertName` heading for {sorted(missing)}"
    section = README.read_text().split("## Alert reference\n", 1)[1].split("\n## ", 1)[0]
    headings = {line[4:].strip() for line in section.splitlines() if line.startswith("### ")}
    assert {r["alert"] for r in alert_rules()} <= headings


def test_every_alert_has_a_test_case() -> None:
    for rules in RULE_FILES:
        doc = yaml.safe_load((RULE_TESTS_DIR / f"{rules.stem}.test.yml").read_text())
        cases = [case for test in doc["tests"] for case in test.get("alert_rule_test", [])]
        tested_firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
        tested_quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
        names = {r["alert"] for r in alerts(rules)}
        assert names <= tested_firing, f"{rules.name}: no firing case for {sorted(names - tested_firing)}"
        # Watchdog has no threshold, so it has no quiet side.
        assert names - {"Watchdog"} <= tested_quiet, f"{rules.name}: no quiet case for {sorted(names - tested_quiet)}"


def test_every_severity_of_an_alert_is_tested() -> None:
    for rules in RULE_FILES:
        doc = yaml.safe_load((RULE_TESTS_DIR / f"{rules.stem}.test.yml").read_text())
        expected = {
            (case["alertname"], alert["exp_labels"]["severity"])
            for test in doc["tests"]
            for case in test.get("alert_rule_test", [])
            for alert in case.get("exp_alerts") or []
        }
        rules_pairs = {(r["alert"], r["labels"]["severity"]) for r in alerts(rules)}
        assert rules_pairs <= expected, f"{rules.name}: untested {sorted(rules_pairs - expected)}"
