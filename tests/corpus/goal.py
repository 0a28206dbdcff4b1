"""The measured goal: the corpus through `allim-backtest`, the shipped rules beside the old ones, figures per family.

Issue 17's targets, on the corpus: every labelled incident caught by some alert of its family; at most one false
alert per series per 4 weeks; outages paged (a critical alert) within 5 minutes of their start, the rule's `for:`
included; and no worse than the old rules on any family (as many incidents caught, no more false alerts).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testkit.processes import REPO
from tests.corpus import clock, generate, scenario
from tests.corpus.scenario import Event

RULES = REPO / "deploy" / "prometheus" / "rules"
TOLERANCE_SECONDS = 600  # allim-backtest's default --tolerance: an alert this early still catches an incident
PAGE_WITHIN_SECONDS = 300
ROLES = ("baseline", "rules")  # the old rules, the shipped rules


def backtest(history: Path, rules: Path = RULES, baseline: Path = generate.OLD_RULES) -> dict[str, Any]:
    """`allim-backtest --json` of `rules` against `baseline` (the shipped rules against the old ones) on `history`."""
    command = [sys.executable, "-m", "allim.backtest", "--rules", str(rules), "--baseline", str(baseline)]
    command += ["--history", str(history), "--incidents", str(generate.INCIDENTS), "--json", "--quiet"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"allim-backtest exited with {done.returncode}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure(seed: int = generate.SEED, rules: Path = RULES) -> dict[str, Any]:
    """Generate the corpus into a temporary directory and backtest `rules` on it."""
    with tempfile.TemporaryDirectory(prefix="allim-corpus-") as directory:
        return backtest(generate.generate(Path(directory), seed, "csv"), rules)


@dataclass(frozen=True)
class Figures:
    """One family's score under one rule set."""

    incidents: int
    caught: int
    median_detect_seconds: float | None
    false_alerts: int
    false_alerts_per_week: float
    false_alerts_per_series_per_4_weeks: float


def figures(result: dict[str, Any]) -> dict[str, dict[str, Figures]]:
    """{family: {"baseline": old rules' figures, "rules": shipped rules' figures}}, families in corpus order."""
    found: dict[str, dict[str, Figures]] = {family: {} for family in scenario.FAMILIES}
    for score in result["scores"]:
        per_4_weeks = score["false_alerts"] / (scenario.series_weeks(score["family"]) / 4)
        found[score["family"]][score["rule_set"]] = Figures(
            incidents=score["incidents"],
            caught=score["caught"],
            median_detect_seconds=score["median_detect_seconds"],
            false_alerts=score["false_alerts"],
            false_alerts_per_week=score["false_alerts_per_week"],
            false_alerts_per_series_per_4_weeks=per_4_weeks,
        )
    return found


def _pages(alerts: list[dict[str, Any]], event: Event) -> list[float]:
    start, end = clock.unix(event.first), clock.unix(event.last)
    return sorted(
        alert["start"]
        for alert in alerts
        if alert["alertname"].startswith(event.family)
        and alert["labels"].get("severity") == "critical"
        and all(alert["labels"].get(key) == value for key, value in event.labels.items())
        and start - TOLERANCE_SECONDS <= alert["start"] <= end
    )


def page_delays(result: dict[str, Any], role: str = "rules") -> dict[str, float | None]:
    """Seconds from each HetrixTools outage's (or flapping's) start to its first page, None when none came."""
    alerts = result["alerts"] if role == "rules" else result["baseline_alerts"]
    delays: dict[str, float | None] = {}
    for event in scenario.incidents():
        if event.family == "HetrixTools":
            pages = _pages(alerts, event)
            delays[event.name] = max(0.0, pages[0] - clock.unix(event.first)) if pages else None
    return delays


def same_rules(first: Path, second: Path) -> bool:
    """Whether two rule folders hold the same alerting rules (name, expression, `for:`, labels): annotations aside."""

    def alerts(folder: Path) -> list[tuple[str, str, str, str]]:
        found = []
        for path in sorted(folder.glob("*.yml")):
            for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
                for rule in group["rules"]:
                    labels = json.dumps(rule.get("labels", {}), sort_keys=True)
                    expr = " ".join(str(rule["expr"]).split())
                    found.append((rule.get("alert") or rule["record"], expr, rule.get("for", "0s"), labels))
        return sorted(found)

    return alerts(first) == alerts(second)
