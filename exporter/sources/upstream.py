"""The one upstream client every polling source uses: failure reasons, the rate-limit gate and its back-off
policy, the authenticated request, status mapping and JSON decoding.

Each upstream states its allowance its own way (Sentry's `X-Sentry-Rate-Limit-*`, HetrixTools' `ratelimit-*`,
GA4's hourly token quota); a source passes an `AllowanceReader` that turns an answer into an `Allowance`, and
`RateLimitGate.note` applies the one policy to it. Nothing here retries: a failed call fails the poll, and
the scheduler tries again on the next interval.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from allim.numbers import as_number
from allim.secret import Secret

# The `reason` label values of allim_source_errors_total.
REASONS = ("timeout", "network", "http_4xx", "http_5xx", "rate_limited", "parse", "other")
# A 429 that says neither when to come back (no reset, no Retry-After) waits this long, doubling per 429 in a row.
FALLBACK_BACKOFF = 60.0
# No wait, however an upstream words it, is longer than this: a bogus reset must not silence a source for days.
MAX_BACKOFF = 3600.0


class SourceError(Exception):
    """A failed collection with the reason it is counted under; the message must hold no secret."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(message)
        self.reason = reason


def number(value: object, what: str) -> float:
    """A count sent as a number or a numeric string ("150"); anything else is a `parse` error naming `what`."""
    result = as_number(value)
    if result is None:
        raise SourceError("parse", f"{what}: expected a count, got {str(value)[:40]!r}")
    return result


@dataclass(frozen=True)
class Allowance:
    """What one answer says about our rate limit."""

    remaining: float | None = None  # requests (or quota tokens) left in the current window; None: not said
    reset_at: float | None = None  # unix time a used-up window refills; None: not used up, or not said


AllowanceReader = Callable[[httpx.Response, float], Allowance]  # (answer, now) -> allowance


def no_allowance(response: httpx.Response, now: float) -> Allowance:
    """For an upstream whose answers say nothing about the allowance."""
    return Allowance()


class RateLimitGate:
    """Remembers when an upstream told us to wait, and what it said is left of our allowance.

    A source calls `check()` before each request: while deferred it raises `rate_limited`
    without any network traffic, so a 429 never turns into a tight retry loop.
    """

    def __init__(self, clock: Callable[[], float] = time.time, *, max_backoff: float = MAX_BACKOFF) -> None:
        self.clock = clock
        self.max_backoff = max_backoff
        self.not_before = 0.0
        self.remaining: float | None = None
        self.consecutive_429 = 0

    def check(self) -> None:
        now = self.clock()
        if now < self.not_before:
            raise SourceError("rate_limited", f"rate limited by upstream, next call in {self.not_before - now:.0f}s")

    def defer_until(self, timestamp: float) -> None:
        self.not_before = max(self.not_before, timestamp)

    def defer_for(self, seconds: float) -> None:
        self.defer_until(self.clock() + max(0.0, seconds))

    def note(self, status: int, allowance: Allowance, retry_after: float | None = None) -> None:
        """The one back-off policy, applied to every answer.

        - The remaining allowance is exported as said; a 429 means none is left.
        - A 429 waits until the upstream's reset, else its `Retry-After`, else FALLBACK_BACKOFF doubled per
          429 in a row; a used-up window without a 429 waits until its reset, so the next call is not refused.
        - Every wait is capped at `max_backoff`; a 2xx ends the run of 429s.
        """
        now = self.clock()
        if allowance.remaining is not None:
            self.remaining = allowance.remaining
        if status == 429:
            self.remaining = 0.0
            if allowance.reset_at is not None and allowance.reset_at > now:
                until = allowance.reset_at
            elif retry_after is not None and retry_after >= 0:
                until = now + retry_after
            else:
                until = now + FALLBACK_BACKOFF * 2 ** min(self.consecutive_429, 16)
            self.consecutive_429 += 1
            self.defer_until(min(until, now + self.max_backoff))
            return
        if 200 <= status < 300:
            self.consecutive_429 = 0
        if allowance.reset_at is not None:
            self.defer_until(min(allowance.reset_at, now + self.max_backoff))


def raise_for_status(response: httpx.Response, what: str) -> None:
    """A SourceError for any non-2xx answer, classified for the errors metric (429: `rate_limited`)."""
    if response.is_success:
        return
    code = response.status_code
    if code == 429:
        raise SourceError("rate_limited", f"{what}: HTTP 429 Too Many Requests {short_body(response)}".rstrip())
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


class Upstream:
    """One upstream API: base URL, bearer token, rate-limit gate and how its answers state the allowance.

    Every call checks the gate first (no traffic while deferred) and feeds each answer to `gate.note`.
    The token goes only to `base_url`: callers pass paths, never URLs taken from an answer.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        gate: RateLimitGate,
        read_allowance: AllowanceReader = no_allowance,
        token: Secret | None = None,
        timeout: float | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.gate = gate
        self.read_allowance = read_allowance
        self.token = token
        self.timeout = timeout  # None: the client's own default

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        token: str | None = None,
    ) -> httpx.Response:
        """One call with `token` (default: the configured one); the answer whatever its status."""
        self.gate.check()
        bearer = token if token is not None else (self.token.reveal() if self.token else "")
        response = await self.client.request(
            method,
            self.base_url + path,
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
            timeout=httpx.USE_CLIENT_DEFAULT if self.timeout is None else self.timeout,
        )
        retry_after = as_number(response.headers.get("retry-after"))
        self.gate.note(response.status_code, self.read_allowance(response, self.gate.clock()), retry_after)
        return response

    async def get(self, path: str, params: Any, what: str) -> httpx.Response:
        """A GET that must succeed: a SourceError (never naming the token) for a deferred gate or any non-2xx."""
        response = await self.request("GET", path, params=params)
        raise_for_status(response, what)
        return response

    async def get_json(self, path: str, params: Any, what: str) -> Any:
        return parse_json(await self.get(path, params, what), what)
