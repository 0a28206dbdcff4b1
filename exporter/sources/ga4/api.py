"""Thin I/O against the GA4 Data API v1beta: the two `runRealtimeReport` bodies and the call itself.

GA4 states no rate-limit headers: its quota is tokens per hour (and day), refilled on the hour, and what is left
comes in each report's `propertyQuota` (read by the source). So a 429 waits until the next full hour, or the
configured `rate_limit_delay`; the shared upstream client applies that wait (apis.md §3.4).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from exporter.sources.ga4.config import Ga4Config
from exporter.sources.upstream import Allowance, RateLimitGate, SourceError, Upstream, parse_json, raise_for_status

log = logging.getLogger("exporter.sources.ga4")

BREAKDOWN_LIMIT = 10_000  # the API's default; rows come sorted by eventCount, so a cut drops the smallest


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


def next_hour(now: float) -> float:
    """The start of the next full hour: when GA's hourly token quotas have refilled."""
    return (now // 3600 + 1) * 3600


class Ga4Api:
    """One property's realtime reports, through the shared upstream client, with a token handed in per call."""

    def __init__(self, config: Ga4Config, client: httpx.AsyncClient, gate: RateLimitGate) -> None:
        self.config = config
        self.upstream = Upstream(client, base_url=config.api_base, gate=gate, read_allowance=self.allowance)
        self.path = f"/v1beta/properties/{config.property_id}:runRealtimeReport"
        self.what = f"GA4 runRealtimeReport (property {config.property_id})"

    def allowance(self, response: httpx.Response, now: float) -> Allowance:
        """A 429 means the hourly tokens are spent: they are back at the next hour (or after the set delay)."""
        if response.status_code != 429:
            return Allowance()
        delay = self.config.rate_limit_delay
        return Allowance(reset_at=now + delay if delay else next_hour(now))

    async def post(self, body: dict[str, Any], token: str) -> httpx.Response:
        """One runRealtimeReport, whatever its answer (the source handles 401 and 403 first)."""
        return await self.upstream.request("POST", self.path, json=body, token=token)

    def report(self, response: httpx.Response) -> dict[str, Any]:
        """The report in a 2xx answer; a SourceError for anything else."""
        raise_for_status(response, self.what)
        report = parse_json(response, self.what)
        if not isinstance(report, dict):
            raise SourceError("parse", f"{self.what}: expected a JSON object")
        return report
