"""Alerting rules evaluated over the range: one range query per rule, then Prometheus' state machine per label set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allim.backtest.rules import Rule, RuleSet
from allim.backtest.selectors import LabelSet, label_set
from allim.backtest.statemachine import Grid, alert_spans
from allim.backtest.tsdb import Tsdb


@dataclass(frozen=True)
class Alert:
    """An alert the rules would have fired: Alertmanager's startsAt (`start`) and endsAt (`end`, None while
    still firing when the history ends), and when it went pending (`active_at`)."""

    rule: Rule
    labels: dict[str, str]
    active_at: int
    start: int
    end: int | None

    @property
    def alertname(self) -> str:
        return self.rule.name


def evaluate_alerts(
    tsdb: Tsdb, rule_set: RuleSet, first_ms: int, last_ms: int, progress: Callable[[str], None]
) -> list[Alert]:
    rules = rule_set.alerting
    progress(f"alerting rules: {len(rules)}")
    jobs = [
        (rule, rule.expr, grid) for rule in rules if (grid := Grid.covering(first_ms, last_ms, rule.interval_ms)).count
    ]
    present: dict[Rule, dict[LabelSet, set[int]]] = {rule: {} for rule in rules}
    for rule, grid, results in tsdb.query_range(jobs):
        for metric, values in results:
            labels = label_set(rule.output_labels(metric))
            indices = present[rule].setdefault(labels, set())
            indices.update((round(float(ts) * 1000) - grid.start_ms) // grid.step_ms for ts, _ in values)
    alerts = []
    for rule, grid in ((rule, grid) for rule, _, grid in jobs):
        for labels, indices in present[rule].items():
            for span in alert_spans(sorted(indices), grid, rule.hold_ms, rule.keep_firing_ms):
                alerts.append(Alert(rule, dict(labels), span.active_at, span.fired_at, span.resolved_at))
    alerts.sort(key=lambda alert: (alert.start, alert.alertname, sorted(alert.labels.items())))
    return alerts
