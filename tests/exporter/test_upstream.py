"""The one back-off policy and the lenient count parser of exporter/sources/upstream.py."""

from __future__ import annotations

import httpx
import pytest

from exporter.sources.upstream import (
    FALLBACK_BACKOFF,
    MAX_BACKOFF,
    Allowance,
    RateLimitGate,
    SourceError,
    Upstream,
    number,
    raise_for_status,
)

NOW = 1_800_000_000.0


def gate(**kwargs: float) -> RateLimitGate:
    return RateLimitGate(lambda: NOW, **kwargs)


def test_upstream_429_waits_for_the_reset_then_retry_after_then_doubling_fallback() -> None:
    with_reset = gate()
    with_reset.note(429, Allowance(remaining=3, reset_at=NOW + 30), retry_after=5)
    assert (with_reset.not_before, with_reset.remaining) == (NOW + 30, 0)
    with_retry_after = gate()
    with_retry_after.note(429, Allowance(reset_at=NOW - 1), retry_after=5)  # a reset in the past is no help
    assert with_retry_after.not_before == NOW + 5
    bare = gate()
    waits = []
    for _ in range(8):
        bare.note(429, Allowance())
        waits.append(bare.not_before - NOW)
    assert waits[:3] == [FALLBACK_BACKOFF, 2 * FALLBACK_BACKOFF, 4 * FALLBACK_BACKOFF]
    assert max(waits) == MAX_BACKOFF
    bare.note(200, Allowance())
    assert bare.consecutive_429 == 0


def test_upstream_used_up_window_defers_without_a_429_and_waits_are_capped() -> None:
    exhausted = gate()
    exhausted.note(200, Allowance(remaining=0, reset_at=NOW + 60))
    assert (exhausted.not_before, exhausted.remaining) == (NOW + 60, 0)
    with pytest.raises(SourceError) as caught:
        exhausted.check()
    assert caught.value.reason == "rate_limited"
    far = gate()
    far.note(429, Allowance(reset_at=NOW + 10 * 86400))
    assert far.not_before == NOW + MAX_BACKOFF
    longer = gate(max_backoff=7200)
    longer.note(429, Allowance(reset_at=NOW + 7000))
    assert longer.not_before == NOW + 7000


async def test_upstream_sends_the_token_only_to_its_base_and_never_while_deferred() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, headers={"Retry-After": "30"}, json={"detail": "slow down"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        upstream = Upstream(client, base_url="https://api.test/", gate=gate())
        with pytest.raises(SourceError) as first:
            await upstream.get_json("/v1/things", {"page": 1}, "GET /v1/things")
        with pytest.raises(SourceError) as second:
            await upstream.get_json("/v1/things", {"page": 1}, "GET /v1/things")
    assert first.value.reason == second.value.reason == "rate_limited"
    assert "slow down" in str(first.value) and "next call in 30s" in str(second.value)
    assert [str(r.url) for r in seen] == ["https://api.test/v1/things?page=1"]
    assert seen[0].headers["authorization"] == "Bearer "


@pytest.mark.parametrize(("status", "reason"), [(500, "http_5xx"), (503, "http_5xx"), (404, "http_4xx")])
def test_upstream_status_mapping(status: int, reason: str) -> None:
    with pytest.raises(SourceError) as caught:
        raise_for_status(httpx.Response(status, text="no\n  such"), "GET /x")
    assert caught.value.reason == reason and str(caught.value) == f"GET /x: HTTP {status} no such"


def test_upstream_number_is_lenient_about_strings_only() -> None:
    assert number("150", "stats") == 150 and number(2, "stats") == 2
    for bad in (True, None, "many", {"n": 1}):
        with pytest.raises(SourceError) as caught:
            number(bad, "stats")
        assert caught.value.reason == "parse" and caught.value.args[0].startswith("stats: expected a count")
