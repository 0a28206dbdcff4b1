"""Thin I/O against the HetrixTools API v3: every page of `GET /v3/uptime-monitors`, and the `ratelimit-*` headers.

The API counts per user and per endpoint (apis.md §2.3); `allowance_from_headers` turns those headers into the
shared upstream client's `Allowance`, so an exhausted window defers the next call until its reset even before a 429.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from allim.numbers import as_number
from exporter.sources.hetrixtools.config import HetrixToolsConfig
from exporter.sources.hetrixtools.metrics import Monitor, monitors_from_page
from exporter.sources.upstream import Allowance, RateLimitGate, SourceError, Upstream

log = logging.getLogger("exporter.sources.hetrixtools")


def rate_limit_from_headers(headers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """(requests remaining, when an exhausted window resets) from the `ratelimit-*` headers; None where absent.

    The API counts per user and per endpoint; the smaller remainder is what is really left. The reset is
    reported only for windows at 0, since only those stop the next call.
    """
    remaining: float | None = None
    reset: float | None = None
    for scope in ("user", "endpoint"):
        left = as_number(headers.get(f"ratelimit-remaining-{scope}"))
        if left is None:
            continue
        remaining = left if remaining is None else min(remaining, left)
        at = as_number(headers.get(f"ratelimit-reset-{scope}"))
        if left <= 0 and at is not None:
            reset = at if reset is None else max(reset, at)
    return remaining, reset


def allowance_from_headers(response: httpx.Response, now: float) -> Allowance:
    """The `ratelimit-*` headers as an Allowance; a reset below 1e9 is a delta in seconds, not a unix time."""
    remaining, reset = rate_limit_from_headers(response.headers)
    if reset is not None and reset < 1e9:
        reset += now
    return Allowance(remaining=remaining, reset_at=reset)


class HetrixToolsApi:
    """The uptime-monitor listing, `per_page` at a time, through the shared upstream client."""

    def __init__(self, config: HetrixToolsConfig, client: httpx.AsyncClient, gate: RateLimitGate) -> None:
        self.config = config
        self.upstream = Upstream(
            client,
            base_url=config.api_base,
            gate=gate,
            read_allowance=allowance_from_headers,
            token=config.api_key,
            timeout=config.timeout,
        )

    async def fetch_uptime_monitors(self) -> list[Monitor]:
        """Every page, `per_page` at a time, until `meta.pagination.next` is null (or the page cap)."""
        monitors: list[Monitor] = []
        page = 1
        for _ in range(self.config.max_pages):
            what = f"GET /v3/uptime-monitors page {page}"
            found, next_page = monitors_from_page(await self.fetch_page(page, what), what)
            monitors += found
            if next_page is None:
                return monitors
            if next_page <= page:
                raise SourceError("parse", f"{what}: pagination does not advance (next={next_page})")
            page = next_page
        log.warning(
            "page cap reached, later monitors are not exported",
            extra={"source": "hetrixtools", "max_pages": self.config.max_pages, "monitors": len(monitors)},
        )
        return monitors

    async def fetch_page(self, page: int, what: str) -> Any:
        params = {"page": page, "per_page": self.config.per_page}
        return await self.upstream.get_json("/v3/uptime-monitors", params, what)
