"""Alerting rules evaluated over the range: one range query per rule, then Prometheus' state machine per label set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allim.backtest.rules import Rule, RuleSet
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
    alerts: list[Alert] = []
    rules = rule_set.alerting
    for number, rule in enumerate(rules, start=1):
        if number == 1 or number % 10 == 0 or number == len(rules):
            progress(f"alerting rules {number}/{len(rules)}")
        alerts.extend(evaluate_rule(tsdb, rule, first_ms, last_ms))
    alerts.sort(key=lambda alert: (alert.start, alert.alertname, sorted(alert.labels.items())))
    return alerts


def evaluate_rule(tsdb: Tsdb, rule: Rule, first_ms: int, last_ms: int) -> list[Alert]:
    grid = Grid.covering(first_ms, last_ms, rule.interval_ms)
    if grid.count == 0:
        return []
    present: dict[tuple[tuple[str, str], ...], set[int]] = {}
    for metric, points in tsdb.query_range(rule.expr, grid):
        labels = tuple(sorted(rule.output_labels(metric).items()))
        present.setdefault(labels, set()).update(index for index, _ in points)
    alerts = []
    for labels, indices in present.items():
        for span in alert_spans(sorted(indices), grid, rule.hold_ms, rule.keep_firing_ms):
            alerts.append(Alert(rule, dict(labels), span.active_at, span.fired_at, span.resolved_at))
    return alerts
