"""Pure mapping from `runRealtimeReport` answers to the ga4_* families.

    # HELP ga4_active_users Users active in the last 30 minutes (GA4 realtime) (cached, refreshed every 60s)
    # TYPE ga4_active_users gauge
    ga4_active_users{property="123456789"} 42.0
    ga4_page_views{property="123456789"} 180.0
    ga4_event_count{event_name="page_view",property="123456789"} 180.0
    ga4_error_page_views{property="123456789"} 3.0
    ga4_quota_tokens_remaining{period="hour",property="123456789"} 39990.0

Active users are not additive across dimensions, so they come from the totals report, never summed from rows.
Event counts and page views are additive: the top N events and the error-page views are both summed from the
breakdown report, the error pages found by matching the page title here (one report instead of two, and a
Python regex instead of RE2 with an unconfirmed `(?i)`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from allim.numbers import as_number
from exporter.sources.ga4.config import Ga4Config
from exporter.sources.upstream import SourceError, number

QUOTA_PERIODS = {"tokensPerHour": "hour", "tokensPerDay": "day", "tokensPerProjectPerHour": "project_hour"}

Row = tuple[dict[str, str], dict[str, float]]


def rows_from_report(report: dict[str, Any]) -> list[Row]:
    """(dimensions, metrics) per row; metric values arrive as strings; a missing `rows` means no data."""
    try:
        dimension_names = [h["name"] for h in report.get("dimensionHeaders", [])]
        metric_names = [h["name"] for h in report.get("metricHeaders", [])]
        rows = []
        for row in report.get("rows", []):
            dimensions = dict(
                zip(dimension_names, (v.get("value", "") for v in row.get("dimensionValues", [])), strict=True)
            )
            metrics = dict(
                zip(
                    metric_names,
                    (number(v.get("value", 0), "GA4 report") for v in row.get("metricValues", [])),
                    strict=True,
                )
            )
            rows.append((dimensions, metrics))
        return rows
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError("parse", f"GA4 report has an unexpected shape: {type(exc).__name__}: {exc}") from None


def quota_remaining(report: dict[str, Any]) -> dict[str, float]:
    """Token quota left by period label, from `propertyQuota` (present only when it was asked for)."""
    quota = report.get("propertyQuota") or {}
    remaining = {}
    for key, period in QUOTA_PERIODS.items():
        value = as_number((quota.get(key) or {}).get("remaining"))
        if value is not None:
            remaining[period] = value
    return remaining


def families_from_reports(
    config: Ga4Config, totals: dict[str, Any], breakdown: dict[str, Any], quota: dict[str, float]
) -> list[Metric]:
    """The ga4_* families for one cycle's totals and breakdown reports."""
    labels = [config.property_id]
    total_rows = rows_from_report(totals)
    first = total_rows[0][1] if total_rows else {}

    events: dict[str, float] = defaultdict(float)
    error_views = 0.0
    for dimensions, metrics in rows_from_report(breakdown):
        name = dimensions.get("eventName", "")
        events[name] += metrics.get("eventCount", 0.0)
        if config.error_page_event is None and config.error_page_pattern.search(
            dimensions.get("unifiedScreenName", "")
        ):
            error_views += metrics.get("screenPageViews", 0.0)
    if config.error_page_event is not None:
        error_views = events.get(config.error_page_event, 0.0)

    def gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, help_text, labels=["property"])
        family.add_metric(labels, value)
        return family

    event_family = GaugeMetricFamily(
        "ga4_event_count",
        f"Events in the last 30 minutes, top {config.top_events} event names (GA4 realtime)",
        labels=["property", "event_name"],
    )
    for name, count in sorted(events.items(), key=lambda item: (-item[1], item[0]))[: config.top_events]:
        event_family.add_metric([config.property_id, name], count)
    quota_family = GaugeMetricFamily(
        "ga4_quota_tokens_remaining",
        "Realtime report tokens left in the property's quota, by period (GA4 propertyQuota)",
        labels=["property", "period"],
    )
    for period, value in sorted(quota.items()):
        quota_family.add_metric([config.property_id, period], value)
    views = first.get("screenPageViews", 0.0)
    return [
        gauge("ga4_active_users", "Users active in the last 30 minutes (GA4 realtime)", first.get("activeUsers", 0.0)),
        gauge("ga4_page_views", "Page and screen views in the last 30 minutes (GA4 realtime)", views),
        event_family,
        gauge("ga4_error_page_views", "Views of error pages in the last 30 minutes (GA4 realtime)", error_views),
        quota_family,
    ]
