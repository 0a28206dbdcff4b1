"""promtool unit tests for the generated rules, built from the same objectives: each threshold is tested at its edge
(just below: quiet; just above: firing) with inputs derived from the config, so a changed floor is still tested where
it now lies.

A test file is `deploy/prometheus/tests/<rules>.test.yml`, or `<rules>.<part>.test.yml` for cases that need another
evaluation interval (weeks of history run at 15 minutes, days at 5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from allim import yamltext
from allim.rules.cases.series import Value, compress
from allim.rules.model import HEADER, Rule


class CaseError(Exception):
    """The objectives leave no input that tests a threshold at its edge; the message names the key."""


@dataclass
class Case:
    """One entry of a test file's `tests`: input series, and what to expect at which evaluation."""

    interval_m: int
    comment: str = ""
    series: list[tuple[str, Sequence[Value]]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    exprs: list[dict[str, Any]] = field(default_factory=list)

    def add(self, selector: str, values: Sequence[Value]) -> None:
        self.series.append((selector, values))

    def expect(self, at_m: int, alertname: str, firing: list[dict[str, Any]]) -> None:
        self.alerts.append({"eval_time": _minutes(at_m), "alertname": alertname, "exp_alerts": firing})

    def expect_expr(self, at_m: int, expr: str, samples: list[tuple[str, float]]) -> None:
        exp = [{"labels": labels, "value": value} for labels, value in samples]
        self.exprs.append({"expr": expr, "eval_time": _minutes(at_m), "exp_samples": exp})

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"interval": _minutes(self.interval_m)}
        doc["input_series"] = [{"series": name, "values": compress(values)} for name, values in self.series]
        if self.alerts:
            doc["alert_rule_test"] = sorted(self.alerts, key=lambda a: (_parse(a["eval_time"]), a["alertname"]))
        if self.exprs:
            doc["promql_expr_test"] = self.exprs
        return doc


@dataclass
class PromtoolFile:
    rules: str  # the rule file's stem
    part: str  # "" for <rules>.test.yml
    evaluation_m: int
    cases: list[Case]
    comment: str = ""
    # The rule file's groups in its order: promtool evaluates the groups of a step in `group_eval_order` (without
    # one, in map order), and the generated files list the recording groups before the alerts that read them.
    groups: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.rules}.{self.part}.test.yml" if self.part else f"{self.rules}.test.yml"


def _minutes(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text or "0m"


def _parse(text: str) -> int:
    units = {"d": 1440, "h": 60, "m": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhm])", text))


def _comment(text: str, indent: str) -> str:
    return "".join(f"{indent}# {line}".rstrip() + "\n" for line in text.strip().splitlines()) if text else ""


def render_test_file(test_file: PromtoolFile) -> str:
    out = [HEADER, _comment(test_file.comment, "")]
    out.append(yamltext.dump({"rule_files": [f"../rules/{test_file.rules}.yml"]}))
    out.append(f"evaluation_interval: {_minutes(test_file.evaluation_m)}\n")
    if len(test_file.groups) > 1:
        out.append(yamltext.dump({"group_eval_order": test_file.groups}))
    out.append("tests:\n")
    for case in test_file.cases:
        out.append(_comment(case.comment, "  "))
        out.append("".join(f"  {line}".rstrip() + "\n" for line in yamltext.dump([case.body()]).splitlines()))
    return "".join(out)


def rule_named(rules: list[Rule], name: str, severity: str | None = None) -> Rule:
    """The rule of that alert name (and severity), as the generator wrote it."""
    found = [r for r in rules if r.name == name and (severity is None or r.body["labels"]["severity"] == severity)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} rules named {name} ({severity})")
    return found[0]
