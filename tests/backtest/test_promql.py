"""The tokenizer that names the metrics an expression reads: on the shipped rules and on the tricky cases."""

from __future__ import annotations

import pytest

from allim.backtest.promql import metric_names
from tests.deploy.support import rule_groups

# Every metric the exporter, the bridge or Prometheus itself exposes that a shipped rule may read.
KNOWN_METRICS = {
    "up",
    "allim_source_up",
    "allim_source_last_success_timestamp_seconds",
    "allim_bridge_notification_requests_failed_total",
    "allim_bridge_notification_requests_total",
}


def test_promql_shipped_rules_read_only_real_metrics() -> None:
    rules = [rule for group in rule_groups() for rule in group["rules"]]
    read = set().union(*(metric_names(rule["expr"]) for rule in rules))
    recorded = {rule["record"] for rule in rules if "record" in rule}
    raw = read - recorded
    assert raw, "the shipped rules read nothing?"
    unknown = {
        name
        for name in raw
        if name not in KNOWN_METRICS and not name.startswith(("sentry_", "hetrixtools_", "ga4_", "host_"))
    }
    assert unknown == set()
    assert {"hetrixtools_monitor_up", "sentry_project_errors", "ga4_active_users"} <= raw


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up == 0", {"up"}),
        ("sum by (job, instance) (rate(http_requests_total[5m]))", {"http_requests_total"}),
        ("sum(rate(a_total[5m])) by (job) / sum without (instance) (b)", {"a_total", "b"}),
        ('x{path="/a{b}", q=~"sum(.*)"} > 1', {"x"}),
        ('{__name__="by_name", job="a"}', {"by_name"}),
        ('{__name__=~"regex.*"}', set()),
        ("ga4_active_users offset 1w", {"ga4_active_users"}),
        ("avg_over_time(x[1h] offset 2w) + y offset -5m", {"x", "y"}),
        ("x @ 1714557600 + y @ start() + z @ end()", {"x", "y", "z"}),
        ("max_over_time(job:errors:rate5m[1h:1m])", {"job:errors:rate5m"}),
        ("a * on (monitor_id) group_left (monitor_name, target) b", {"a", "b"}),
        ("a and ignoring(location) b unless c or d", {"a", "b", "c", "d"}),
        ('count_values("version", build_info) > bool 1', {"build_info"}),
        ("topk(3, x) + quantile(0.9, y) + 1e3 + 0x1F + .5 + Inf - NaN", {"x", "y"}),
        ("predict_linear(host_filesystem_avail_bytes[6h], 4 * 3600) < 0", {"host_filesystem_avail_bytes"}),
        ("vector(1)", set()),
        ("absent(nope{job='a'})", {"nope"}),
        ("time() - last_seen_seconds > 600", {"last_seen_seconds"}),
        ("sum by (on, by) (x)  # by (comment) y", {"x"}),
        ("`raw` + count", {"count"}),
    ],
)
def test_promql_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
