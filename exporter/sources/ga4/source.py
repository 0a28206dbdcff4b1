"""Collects realtime traffic (last 30 minutes) of one GA4 property from the Analytics Data API v1beta.

    # HELP ga4_active_users Users active in the last 30 minutes (GA4 realtime) (cached, refreshed every 60s)
    # TYPE ga4_active_users gauge
    ga4_active_users{property="123456789"} 42.0
    ga4_page_views{property="123456789"} 180.0
    ga4_event_count{event_name="page_view",property="123456789"} 180.0
    ga4_error_page_views{property="123456789"} 3.0
    ga4_quota_tokens_remaining{period="hour",property="123456789"} 39990.0

Two `runRealtimeReport` calls per cycle, no more:
1. totals: activeUsers and screenPageViews with no dimension. Active users are not additive across
   dimensions, so the total is asked for, never summed from rows.
2. breakdown: eventCount by eventName (plus screenPageViews by unifiedScreenName, the page title on the
   web, when error pages are found by title). Event counts and page views are additive, so the top N
   events and the error-page views are both summed from this one report. The title pattern is matched
   here rather than in a server-side filter: one report instead of two, and a Python regex instead of
   RE2 with an unconfirmed `(?i)`.

Quota: GA says most requests cost under 10 tokens, so 2 per minute is about 1,200 of the 40,000 hourly
realtime tokens of a standard property (3 %; 9 % of the 14,000 per-project share) and about 28,800 of its
200,000 daily ones (14 %). Both reports ask for
`returnPropertyQuota`; what is left is exported, and a 429 defers the source until the next hour.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common
from exporter.sources.upstream import RateLimitGate, SourceError, parse_json, raise_for_status, short_body

log = logging.getLogger("exporter.sources.ga4")

DEFAULT_API_BASE = "https://analyticsdata.googleapis.com"
DEFAULT_ERROR_PAGE_PATTERN = "404|not found|페이지를 찾을 수 없"
BREAKDOWN_LIMIT = 10_000  # the API's default; rows come sorted by eventCount, so a cut drops the smallest
QUOTA_PERIODS = {"tokensPerHour": "hour", "tokensPerDay": "day", "tokensPerProjectPerHour": "project_hour"}


@dataclass(frozen=True, kw_only=True)
class Ga4Config(SourceConfig):
    property_id: str
    api_base: str
    credentials_file: str
    client_email: str
    key: Secret = field(repr=False)
    top_events: int
    error_page_pattern: re.Pattern[str]
    error_page_event: str | None
    rate_limit_delay: float | None  # None: back off until the next full hour after a 429


def load_ga4_config(settings: Settings) -> Ga4Config:
    property_id = settings.string("property_id", env="GA4_PROPERTY_ID") or ""
    credentials_file = settings.string("credentials_file", env="GOOGLE_APPLICATION_CREDENTIALS") or ""
    common = read_common(settings, enabled=bool(property_id and credentials_file), interval=60)
    configured = common["enabled"] or bool(property_id)
    # GA4_API_BASE is checked only once GA4 is configured, like the rest of the section.
    if configured:
        api_base = settings.url("api_base", DEFAULT_API_BASE, env="GA4_API_BASE", base=True) or DEFAULT_API_BASE
    else:
        api_base = settings.string("api_base", DEFAULT_API_BASE, env="GA4_API_BASE") or DEFAULT_API_BASE
    top_events = settings.integer("top_events", 10, env="GA4_TOP_EVENTS", minimum=1, maximum=50)
    pattern_text = settings.string("error_page_pattern", DEFAULT_ERROR_PAGE_PATTERN, env="GA4_ERROR_PAGE_PATTERN")
    try:
        pattern = re.compile(pattern_text or DEFAULT_ERROR_PAGE_PATTERN, re.IGNORECASE)
    except re.error as exc:
        settings.problem("error_page_pattern", f"not a valid regular expression: {exc}")
        pattern = re.compile(DEFAULT_ERROR_PAGE_PATTERN, re.IGNORECASE)
    error_page_event = settings.string("error_page_event", None, env="GA4_ERROR_PAGE_EVENT") or None
    delay = settings.duration("rate_limit_delay", 0, minimum=0) or None

    client_email, key = "", Secret("")
    if configured:
        if not property_id:
            settings.problem("property_id", "required (or environment variable GA4_PROPERTY_ID)")
        elif not property_id.isdigit():
            settings.problem("property_id", f"must be the numeric GA4 property id, not {property_id!r}")
        if not credentials_file:
            settings.problem(
                "credentials_file", "required: a service-account JSON key (or GOOGLE_APPLICATION_CREDENTIALS)"
            )
        else:
            # google-auth (and its crypto) is imported only when GA4 is configured: ~50 ms and a few MB otherwise.
            from exporter.sources.ga4_auth import KeyFileError, read_key_file

            try:
                client_email, key = read_key_file(credentials_file)
            except KeyFileError as exc:
                settings.problem("credentials_file", str(exc))
    return Ga4Config(
        **common,
        property_id=property_id,
        api_base=api_base,
        credentials_file=credentials_file,
        client_email=client_email,
        key=key,
        top_events=top_events,
        error_page_pattern=pattern,
        error_page_event=error_page_event,
        rate_limit_delay=delay,
    )


# -- requests ------------------------------------------------------------------------------
def totals_request() -> dict[str, Any]:
    """Whole-property totals for the last 30 minutes (no minuteRanges: the API's default window)."""
    return {"metrics": [{"name": "activeUsers"}, {"name": "screenPageViews"}], "returnPropertyQuota": True}


def breakdown_request(config: Ga4Config) -> dict[str, Any]:
    """Event counts by name, and page views by title unless error pages are counted by an event."""
    dimensions = [{"name": "eventName"}]
    metrics = [{"name": "eventCount"}]
    if config.error_page_event is None:
        dimensions.append({"name": "unifiedScreenName"})
        metrics.append({"name": "screenPageViews"})
    return {
        "dimensions": dimensions,
        "metrics": metrics,
        "orderBys": [{"metric": {"metricName": "eventCount"}, "desc": True}],
        "limit": BREAKDOWN_LIMIT,
        "returnPropertyQuota": True,
    }


# -- pure mapping --------------------------------------------------------------------------
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
                zip(metric_names, (float(v.get("value", 0)) for v in row.get("metricValues", [])), strict=True)
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
        value = (quota.get(key) or {}).get("remaining")
        if isinstance(value, int | float | str):
            remaining[period] = float(value)
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


def next_hour(now: float) -> float:
    """The start of the next full hour: when GA's hourly token quotas have refilled."""
    return (now // 3600 + 1) * 3600


# -- I/O -----------------------------------------------------------------------------------
class Ga4Source:
    """Runs the two realtime reports of a cycle with a cached service-account token."""

    name = "ga4"

    def __init__(self, config: Ga4Config, client: httpx.AsyncClient, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.client = client
        self.gate = RateLimitGate(clock)
        from exporter.sources.ga4_auth import ServiceAccountAuth

        self.auth = ServiceAccountAuth(config.key)
        self._denied = False
        self._warned_truncated = False

    async def collect(self) -> list[Metric]:
        totals = await self.fetch_realtime_report(totals_request())
        breakdown = await self.fetch_realtime_report(breakdown_request(self.config))
        if int(breakdown.get("rowCount", 0)) > len(breakdown.get("rows", [])) and not self._warned_truncated:
            self._warned_truncated = True
            log.warning("GA4 breakdown cut at %d rows; the smallest events are left out", BREAKDOWN_LIMIT)
        quota = quota_remaining(breakdown) or quota_remaining(totals)
        hourly = [quota[p] for p in ("hour", "project_hour") if p in quota]
        if hourly:
            self.gate.remaining = min(hourly)
        return families_from_reports(self.config, totals, breakdown, quota)

    async def fetch_realtime_report(self, body: dict[str, Any]) -> dict[str, Any]:
        """One runRealtimeReport; a 401 gets one fresh token and one retry."""
        self.gate.check()
        url = f"{self.config.api_base}/v1beta/properties/{self.config.property_id}:runRealtimeReport"
        response = await self._post(url, body, await self.auth.token())
        if response.status_code == 401:
            response = await self._post(url, body, await self.auth.token(force=True))
        what = f"GA4 runRealtimeReport (property {self.config.property_id})"
        if response.status_code == 403:
            self._report_denied(response)
        self._denied = False
        if response.status_code == 429:
            delay = self.config.rate_limit_delay
            now = self.gate.clock()
            self.gate.defer_until(now + delay if delay else next_hour(now))
            raise SourceError("rate_limited", f"{what}: quota exhausted (429), {short_body(response)}")
        raise_for_status(response, what)
        report = parse_json(response, what)
        if not isinstance(report, dict):
            raise SourceError("parse", f"{what}: expected a JSON object")
        return report

    async def _post(self, url: str, body: dict[str, Any], token: str) -> httpx.Response:
        return await self.client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    def _report_denied(self, response: httpx.Response) -> None:
        message = (
            f"GA4 denied access to property {self.config.property_id} for service account {self.auth.email}: "
            "add that email as a Viewer in the property's Access management"
        )
        if not self._denied:  # one log line per outage, not one per poll
            self._denied = True
            log.error("%s (%s)", message, short_body(response))
        raise SourceError("http_4xx", message)
