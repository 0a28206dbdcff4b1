"""What every polling source shares about its upstream: failure reasons and rate-limit back-off."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

# The `reason` label values of allim_source_errors_total.
REASONS = ("timeout", "network", "http_4xx", "http_5xx", "rate_limited", "parse", "other")


class SourceError(Exception):
    """A failed collection with the reason it is counted under; the message must hold no secret."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(message)
        self.reason = reason


class RateLimitGate:
    """Remembers when an upstream told us to wait, and what it said is left of our allowance.

    A source calls `check()` before each request: while deferred it raises `rate_limited`
    without any network traffic, so a 429 never turns into a tight retry loop.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.not_before = 0.0
        self.remaining: float | None = None

    def check(self) -> None:
        now = self.clock()
        if now < self.not_before:
            raise SourceError("rate_limited", f"rate limited by upstream, next call in {self.not_before - now:.0f}s")

    def defer_until(self, timestamp: float) -> None:
        self.not_before = max(self.not_before, timestamp)

    def defer_for(self, seconds: float) -> None:
        self.defer_until(self.clock() + max(0.0, seconds))


def raise_for_status(response: httpx.Response, what: str) -> None:
    """A SourceError for any non-2xx answer, classified for the errors metric; 429 handling is the caller's."""
    if response.is_success:
        return
    code = response.status_code
    if code == 429:
        raise SourceError("rate_limited", f"{what}: HTTP 429 Too Many Requests")
    reason = "http_5xx" if code >= 500 else "http_4xx"
    raise SourceError(reason, f"{what}: HTTP {code} {short_body(response)}".rstrip())


def short_body(response: httpx.Response, limit: int = 200) -> str:
    """The start of an error body on one line, for a log message."""
    text = " ".join(response.text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def parse_json(response: httpx.Response, what: str) -> Any:
    """The decoded body, or a `parse` SourceError naming the call."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SourceError("parse", f"{what}: response is not JSON: {short_body(response, 80)!r}") from None
