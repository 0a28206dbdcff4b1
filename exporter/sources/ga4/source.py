"""Collects realtime traffic (last 30 minutes) of one GA4 property from the Analytics Data API v1beta.

Two `runRealtimeReport` calls per cycle, no more (api.py builds them, metrics.py maps them):
1. totals: activeUsers and screenPageViews with no dimension.
2. breakdown: eventCount by eventName (plus screenPageViews by unifiedScreenName, the page title on the
   web, when error pages are found by title).

Quota: GA says most requests cost under 10 tokens, so 2 per minute is about 1,200 of the 40,000 hourly
realtime tokens of a standard property (3 %; 9 % of the 14,000 per-project share) and about 28,800 of its
200,000 daily ones (14 %). Both reports ask for `returnPropertyQuota`; what is left is exported, and a 429
defers the source until the next hour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.metrics_core import Metric

from exporter.sources.ga4.api import BREAKDOWN_LIMIT, Ga4Api, breakdown_request, totals_request
from exporter.sources.ga4.config import Ga4Config
from exporter.sources.ga4.metrics import families_from_reports, quota_remaining
from exporter.sources.upstream import MAX_BACKOFF, RateLimitGate, SourceError, short_body

log = logging.getLogger("exporter.sources.ga4")


class Ga4Source:
    """Runs the two realtime reports of a cycle with a cached service-account token."""

    name = "ga4"

    def __init__(self, config: Ga4Config, client: httpx.AsyncClient, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        # The cap admits a configured delay longer than the usual hour.
        self.gate = RateLimitGate(clock, max_backoff=max(MAX_BACKOFF, config.rate_limit_delay or 0.0))
        self.api = Ga4Api(config, client, self.gate)
        # google-auth is imported only once a GA4 source exists (see config.py).
        from exporter.sources.ga4.auth import ServiceAccountAuth

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
        self.gate.check()  # before the token: no token exchange either while deferred
        response = await self.api.post(body, await self.auth.token())
        if response.status_code == 401:
            response = await self.api.post(body, await self.auth.token(force=True))
        if response.status_code == 403:
            self._report_denied(response)
        self._denied = False
        return self.api.report(response)

    def _report_denied(self, response: httpx.Response) -> None:
        message = (
            f"GA4 denied access to property {self.config.property_id} for service account {self.auth.email}: "
            "add that email as a Viewer in the property's Access management"
        )
        if not self._denied:  # one log line per outage, not one per poll
            self._denied = True
            log.error("%s (%s)", message, short_body(response))
        raise SourceError("http_4xx", message)
