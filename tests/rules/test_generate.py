"""`make rules`: the committed files are what it writes, a stale one fails the check, a changed objective moves the
promtool cases to its new edges, and those cases fail when a rule loses what they pin."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import ROOT, binary, run

RULES_CLI = [sys.executable, "-m", "allim.rules"]


def checkout(tmp_path: Path) -> Path:
    """The files `make rules` reads and writes, copied under tmp_path."""
    for name in ("README.md", "README.ko.md", "deploy"):
        source, target = ROOT / name, tmp_path / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


def promtool_tests(root: Path) -> dict[str, str]:
    """Each generated test file and promtool's verdict on it ("" when it passes)."""
    verdicts = {}
    for path in sorted((root / "deploy/prometheus/tests").glob("*.test.yml")):
        result = run(binary("promtool"), "test", "rules", path.name, cwd=path.parent)
        verdicts[path.name] = "" if result.returncode == 0 else result.stdout + result.stderr
    return verdicts


def test_committed_files_are_what_make_rules_writes() -> None:
    """If this fails, run `make rules` and commit what it wrote."""
    result = run(*RULES_CLI, "--check")
    assert result.returncode == 0, result.stderr


def test_check_names_a_hand_edited_rule_file_until_it_is_regenerated(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    rules = root / "deploy/prometheus/rules/host.yml"
    rules.write_text(rules.read_text().replace("> 0.9", "> 0.95", 1))
    stale = run(*RULES_CLI, "--check", "--root", str(root))
    assert stale.returncode == 1
    assert "deploy/prometheus/rules/host.yml is out of date: run `make rules`" in stale.stderr
    assert run(*RULES_CLI, "--root", str(root)).returncode == 0
    assert run(*RULES_CLI, "--check", "--root", str(root)).returncode == 0


@pytest.mark.slow
def test_a_changed_objective_is_tested_at_its_new_edges(tmp_path: Path) -> None:
    """Every threshold moves: the regenerated promtool cases still pass, at the new numbers."""
    root = checkout(tmp_path)
    path = root / "deploy/prometheus/objectives.yml"
    doc = yaml.safe_load(path.read_text())
    doc["hetrixtools"].update(objective=99.5, min_downtime="150s", monitors={"shop": 99.95}, down_for="2m")
    doc["sentry"]["ceiling"].update(high=30, critical=80)
    doc["sentry"]["projects"] = {"big": {"high": 300, "critical": 800}}
    doc["sentry"]["spike"].update(min_excess=45, band_min_ratio=0.8, **{"for": "40m"})
    doc["ga4"]["spike"].update(floor=70, band_min_ratio=1.5)
    doc["ga4"]["drop"].update(band_min_ratio=0.3)
    doc["ga4"]["zero"].update(floor=25)
    doc["baseline"].update(weeks=3, min_weeks=2)
    doc["host"]["cpu"].update(threshold=0.7, window="5m")
    doc["host"]["disk_filling"]["critical"].update(horizon="8h", free_below=0.25)
    doc["allim"].update(delivery_failed_ratio=0.25, source_stale_after="15m")
    path.write_text(yaml.safe_dump(doc))

    stale = run(*RULES_CLI, "--check", "--root", str(root))
    assert stale.returncode == 1
    assert "deploy/prometheus/tests/sentry.test.yml is out of date" in stale.stderr
    assert run(*RULES_CLI, "--root", str(root)).returncode == 0, "make rules failed"
    assert "> 30\n" in (root / "deploy/prometheus/rules/sentry.yml").read_text()
    assert (
        '{project="big"} * 3600 / (3600 + time() % 3600) > 800'
        in (root / "deploy/prometheus/rules/sentry.yml").read_text()
    )
    assert "+ 0.0005" in (root / "deploy/prometheus/rules/hetrixtools.yml").read_text()  # shop's own objective
    assert "| > 30 " not in (root / "README.md").read_text()
    assert "> 80 (per project" in (root / "README.md").read_text()
    failed = {name: verdict for name, verdict in promtool_tests(root).items() if verdict}
    assert not failed, failed


# Each mutation breaks one thing the generated cases pin; promtool must then fail that test file.
MUTATIONS = {
    "page-pages-the-tail-of-an-outage": (
        "hetrixtools.yml",
        "unless min_over_time(monitor:hetrixtools_monitor_up:max_1m30s[5m]) == 0",
        "unless vector(0) == 1",
        "hetrixtools.test.yml",
    ),
    "page-pages-one-down-minute": (
        "hetrixtools.yml",
        "and monitor:hetrixtools_monitor_down:ratio_1h > 0.025",
        "and monitor:hetrixtools_monitor_down:ratio_1h > 0",
        "hetrixtools.test.yml",
    ),
    "page-forgets-the-history-guard": (
        "hetrixtools.yml",
        "and present_over_time(hetrixtools_monitor_up[10m] offset 50m)",
        "and present_over_time(hetrixtools_monitor_up[10m])",
        "hetrixtools.test.yml",
    ),
    "ticket-without-the-slow-tier": (
        "hetrixtools.yml",
        "monitor:hetrixtools_monitor_down:ratio_3d[2h]) / monitor:hetrixtools_monitor_error_budget:ratio > 1\n",
        "monitor:hetrixtools_monitor_down:ratio_3d[2h]) / monitor:hetrixtools_monitor_error_budget:ratio > 10\n",
        "hetrixtools.ticket.test.yml",
    ),
    "sentry-baseline-is-the-worst-week": (
        "sentry.yml",
        "quantile without (weeks_ago) (0.5,",
        "quantile without (weeks_ago) (1,",
        "sentry.baseline.test.yml",
    ),
    "sentry-weekly-baseline-on-too-few-weeks": (
        "sentry.yml",
        "count without (weeks_ago) (project:sentry_project_errors:same_minute_avg_3h_weeks_ago) >= 3",
        "count without (weeks_ago) (project:sentry_project_errors:same_minute_avg_3h_weeks_ago) >= 1",
        "sentry.baseline.test.yml",
    ),
    "sentry-new-project-baseline-the-median-day": (
        "sentry.yml",
        "max without (days_ago) (project:sentry_project_errors:same_minute_avg_3h_days_ago)",
        "quantile without (days_ago) (0.5, project:sentry_project_errors:same_minute_avg_3h_days_ago)",
        "sentry.baseline.test.yml",
    ),
    "sentry-spike-floor-on-the-level": (
        "sentry.yml",
        "sentry_project_errors - last_over_time(project:sentry_project_errors:baseline[10m]) >= 60",
        "sentry_project_errors >= 60",
        "sentry.baseline.test.yml",
    ),
    "sentry-ceiling-on-the-raw-count": (
        "sentry.yml",
        "sentry_project_errors * 3600 / (3600 + time() % 3600) > 300",
        "sentry_project_errors > 300",
        "sentry.test.yml",
    ),
    "sentry-new-project-baseline-from-one-day": (
        "sentry.yml",
        "count without (days_ago) (project:sentry_project_errors:same_minute_avg_3h_days_ago) >= 2",
        "count without (days_ago) (project:sentry_project_errors:same_minute_avg_3h_days_ago) >= 1",
        "sentry.baseline.test.yml",
    ),
    "sentry-baseline-from-an-hour-average": (
        "sentry.yml",
        "(sentry_project_errors + sentry_project_errors offset 1h + sentry_project_errors offset 2h) / 3",
        "avg_over_time(sentry_project_errors[1h])",
        "sentry.baseline.test.yml",
    ),
    "ga4-drop-against-the-weekday-median": (
        "ga4.yml",
        "clamp_min(property:ga4_active_users:quietest_day - max without (term) (",
        "clamp_min(property:ga4_active_users:baseline - max without (term) (",
        "ga4.baseline.test.yml",
    ),
    "cpu-on-a-burst": (
        "host.yml",
        "avg_over_time(host_cpu_usage_ratio[5m]) > 0.8",
        "max_over_time(host_cpu_usage_ratio[5m]) > 0.8",
        "host.test.yml",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_cases_fail_when_a_rule_loses_what_they_pin(tmp_path: Path, mutation: str) -> None:
    rule_file, old, new, test_file = MUTATIONS[mutation]
    root = checkout(tmp_path)
    path = root / "deploy/prometheus/rules" / rule_file
    text = path.read_text()
    assert old in text, f"the rule no longer reads {old!r}: update the mutation"
    path.write_text(text.replace(old, new))
    result = run(binary("promtool"), "test", "rules", test_file, cwd=root / "deploy/prometheus/tests")
    assert result.returncode == 1, f"{test_file} passed with {mutation}"
