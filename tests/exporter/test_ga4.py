"""GA4 source: pure mapping on documented payloads, and the real source against the fake token + Data API."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.metrics_core import Metric

from allim.settings import ConfigError
from exporter.config import config_from_mapping
from exporter.scheduler import poll_once
from exporter.snapshot import Snapshot
from exporter.sources.ga4 import Ga4Config, Ga4Source
from exporter.sources.ga4.api import next_hour
from exporter.sources.ga4.metrics import families_from_reports, quota_remaining
from exporter.sources.upstream import SourceError
from tests.fakes.ga4 import FakeGa4, make_key_file
from tests.support import REPO, ThreadedServer, recorded, samples

PROPERTY = "123456789"
EMAIL = "allim-test@allim-test.iam.gserviceaccount.com"
KOREAN_OR_ENGLISH = "(?i)not found|페이지를 찾을 수 없"
ROWS: list[dict[str, Any]] = [
    {"eventName": "page_view", "unifiedScreenName": "Home", "eventCount": 120, "screenPageViews": 120},
    {"eventName": "page_view", "unifiedScreenName": "Pricing", "eventCount": 30, "screenPageViews": 30},
    {"eventName": "page_view", "unifiedScreenName": "404 Not Found", "eventCount": 4, "screenPageViews": 4},
    {"eventName": "page_view", "unifiedScreenName": "페이지를 찾을 수 없습니다", "eventCount": 2, "screenPageViews": 2},
    {"eventName": "page_view", "unifiedScreenName": "Page NOT FOUND", "eventCount": 1, "screenPageViews": 1},
    {"eventName": "scroll", "unifiedScreenName": "Home", "eventCount": 50},
    {"eventName": "session_start", "unifiedScreenName": "Home", "eventCount": 40},
    {"eventName": "click", "unifiedScreenName": "Pricing", "eventCount": 7},
    {"eventName": "page_not_found", "unifiedScreenName": "404 Not Found", "eventCount": 4},
    {"eventName": "user_engagement", "unifiedScreenName": "404 Not Found", "eventCount": 3},
]


def load(name: str) -> dict[str, Any]:
    return dict(recorded("ga4", name))


def value(families: list[Metric], name: str, **labels: str) -> float | None:
    return samples(families).get((name, tuple(sorted({"property": PROPERTY, **labels}.items()))))


def ga4_config(key_file: Path | str, api_base: str = "http://127.0.0.1:9", **section: Any) -> Ga4Config:
    env = {"GA4_PROPERTY_ID": PROPERTY, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "GA4_API_BASE": api_base}
    config = config_from_mapping({"host": {"enabled": False}, "ga4": section}, env).sources["ga4"]
    assert isinstance(config, Ga4Config)
    return config


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeGa4, ThreadedServer, Path]]:
    state = FakeGa4(public_key=None, client_email=EMAIL, active_users=37, rows=[dict(r) for r in ROWS])
    with ThreadedServer(state.app) as server:
        key_file = tmp_path / "key.json"
        state.public_key = make_key_file(key_file, f"{server.url}/token", EMAIL).public_key()
        yield state, server, key_file


@pytest.fixture
def static_key(tmp_path: Path) -> Path:
    key_file = tmp_path / "static-key.json"
    make_key_file(key_file, "http://127.0.0.1:9/token", EMAIL)
    return key_file


async def collect(config: Ga4Config, rounds: int = 1, **kwargs: Any) -> tuple[Ga4Source, list[Metric]]:
    async with httpx.AsyncClient() as client:
        source = Ga4Source(config, client, **kwargs)
        families: list[Metric] = []
        for _ in range(rounds):
            families = await source.collect()
    return source, families


# -- pure mapping on documented payloads -----------------------------------------------------
def test_ga4_families_from_documented_reports(static_key: Path) -> None:
    config = ga4_config(static_key, top_events=3)
    totals, breakdown = load("realtime_totals.json"), load("realtime_breakdown.json")
    families = families_from_reports(config, totals, breakdown, quota_remaining(breakdown))
    assert value(families, "ga4_active_users") == 42
    assert value(families, "ga4_page_views") == 180
    events = {labels: v for (name, labels), v in samples(families).items() if name == "ga4_event_count"}
    assert [dict(labels)["event_name"] for labels in events] == ["page_view", "scroll", "user_engagement"]
    assert value(families, "ga4_event_count", event_name="page_view") == 150 + 20 + 7 + 3
    assert value(families, "ga4_event_count", event_name="scroll") == 61
    # "404 Not Found" and the Korean title; "Page NOT FOUND" matches but has no page views
    assert value(families, "ga4_error_page_views") == 10
    assert value(families, "ga4_quota_tokens_remaining", period="hour") == 39986
    assert value(families, "ga4_quota_tokens_remaining", period="day") == 199986
    assert value(families, "ga4_quota_tokens_remaining", period="project_hour") == 13986


def test_ga4_error_page_event_counts_that_event(static_key: Path) -> None:
    config = ga4_config(static_key, error_page_event="page_not_found")
    families = families_from_reports(config, load("realtime_totals.json"), load("realtime_breakdown.json"), {})
    assert value(families, "ga4_error_page_views") == 10


def test_ga4_missing_rows_are_zeros(static_key: Path) -> None:
    config = ga4_config(static_key)
    empty = load("realtime_empty.json")
    families = families_from_reports(config, load("realtime_totals_empty.json"), empty, quota_remaining(empty))
    assert value(families, "ga4_active_users") == 0
    assert value(families, "ga4_page_views") == 0
    assert value(families, "ga4_error_page_views") == 0
    assert not [name for name, _ in samples(families) if name == "ga4_event_count"]
    assert value(families, "ga4_quota_tokens_remaining", period="hour") == 39996


def test_ga4_malformed_report_is_a_parse_error(static_key: Path) -> None:
    broken = load("realtime_totals.json")
    broken["rows"][0]["metricValues"] = [{"value": "many"}, {"value": "1"}]
    with pytest.raises(SourceError) as info:
        families_from_reports(ga4_config(static_key), broken, load("realtime_empty.json"), {})
    assert info.value.reason == "parse"


def test_ga4_next_hour_is_the_hour_boundary() -> None:
    assert next_hour(7200.0) == 10800.0
    assert next_hour(7201.5) == 10800.0


# -- against the fake ------------------------------------------------------------------------
async def test_ga4_exported_values_equal_what_the_fake_serves(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    source, families = await collect(ga4_config(key_file, server.url, top_events=4))
    assert value(families, "ga4_active_users") == 37
    assert value(families, "ga4_page_views") == 157
    assert value(families, "ga4_event_count", event_name="page_view") == 157
    assert value(families, "ga4_event_count", event_name="scroll") == 50
    assert value(families, "ga4_event_count", event_name="session_start") == 40
    assert value(families, "ga4_event_count", event_name="click") == 7
    assert value(families, "ga4_event_count", event_name="page_not_found") is None  # not in the top 4
    assert value(families, "ga4_error_page_views") == 7
    assert source.auth.email == EMAIL


async def test_ga4_quota_gauges_reflect_property_quota(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.token_cost = 7
    source, families = await collect(ga4_config(key_file, server.url))
    assert value(families, "ga4_quota_tokens_remaining", period="hour") == state.quota["tokensPerHour"] == 40_000 - 14
    assert value(families, "ga4_quota_tokens_remaining", period="day") == state.quota["tokensPerDay"]
    assert value(families, "ga4_quota_tokens_remaining", period="project_hour") == 14_000 - 14
    assert (
        source.gate.remaining == 14_000 - 14
    )  # the tighter hourly bucket, shown as allim_upstream_rate_limit_remaining


async def test_ga4_makes_two_calls_per_cycle_and_caches_the_token(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    await collect(ga4_config(key_file, server.url), rounds=3)
    assert len(state.api_requests) == 6
    assert all(path.endswith(f"/properties/{PROPERTY}:runRealtimeReport") for path, _ in state.api_requests)
    totals_body = state.api_requests[0][1]
    assert "dimensions" not in totals_body and totals_body["returnPropertyQuota"] is True
    assert state.token_requests == 1


async def test_ga4_refreshes_a_token_close_to_expiry(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.expires_in = "120"  # inside google-auth's 3 min 45 s refresh margin; a string, as Google may send it
    await collect(ga4_config(key_file, server.url), rounds=2)
    assert state.token_requests == len(state.api_requests) == 4  # never sent once it is that close to expiry


async def test_ga4_401_refreshes_the_token_once_and_retries(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.reject_tokens_once = True
    _, families = await collect(ga4_config(key_file, server.url))
    assert value(families, "ga4_active_users") == 37
    assert state.token_requests == 2
    assert len(state.api_requests) == 3


async def test_ga4_refused_token_exchange_says_so_without_secrets(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    make_key_file(key_file, f"{server.url}/token", EMAIL)  # a new key the fake does not know: bad signature
    with pytest.raises(SourceError) as info:
        await collect(ga4_config(key_file, server.url))
    message = str(info.value)
    assert info.value.reason == "http_4xx"
    assert "invalid_grant" in message and EMAIL in message
    assert "PRIVATE KEY" not in message and "eyJ" not in message
    assert not state.api_requests


async def test_ga4_403_is_source_down_with_a_useful_log_line(
    fake: tuple[FakeGa4, ThreadedServer, Path], caplog: pytest.LogCaptureFixture
) -> None:
    state, server, key_file = fake
    state.fail_status = 403
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient() as client:
        source = Ga4Source(ga4_config(key_file, server.url), client)
        snapshot = Snapshot([source])
        assert await poll_once(source, snapshot) == "http_4xx"
        assert await poll_once(source, snapshot) == "http_4xx"
    assert snapshot.states["ga4"].up is False
    denied = [r for r in caplog.records if r.name == "exporter.sources.ga4"]
    assert len(denied) == 1  # once per outage, not once per poll
    assert EMAIL in denied[0].getMessage() and PROPERTY in denied[0].getMessage()
    assert "Viewer" in denied[0].getMessage()
    assert "ya29." not in caplog.text and "PRIVATE KEY" not in caplog.text


async def test_ga4_429_defers_until_the_next_hour(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.fail_status = 429
    now = [7300.0]
    async with httpx.AsyncClient() as client:
        source = Ga4Source(ga4_config(key_file, server.url), client, clock=lambda: now[0])
        with pytest.raises(SourceError) as first:
            await source.collect()
        assert first.value.reason == "rate_limited"
        assert source.gate.not_before == 10800.0
        state.fail_status = None
        now[0] = 10799.0
        with pytest.raises(SourceError) as second:
            await source.collect()
        assert second.value.reason == "rate_limited"
        assert len(state.api_requests) == 1  # deferred: no call while waiting
        now[0] = 10800.0
        families = await source.collect()
    assert value(families, "ga4_active_users") == 37


async def test_ga4_429_honours_a_configured_delay(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.fail_status = 429
    async with httpx.AsyncClient() as client:
        source = Ga4Source(ga4_config(key_file, server.url, rate_limit_delay="5m"), client, clock=lambda: 7300.0)
        with pytest.raises(SourceError):
            await source.collect()
    assert source.gate.not_before == 7600.0


async def test_ga4_5xx_is_counted_as_http_5xx(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.fail_status = 503
    with pytest.raises(SourceError) as info:
        await collect(ga4_config(key_file, server.url))
    assert info.value.reason == "http_5xx"


async def test_ga4_missing_rows_from_the_fake_are_zeros(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    state.rows, state.active_users = [], 0
    _, families = await collect(ga4_config(key_file, server.url))
    assert value(families, "ga4_active_users") == 0
    assert value(families, "ga4_page_views") == 0
    assert value(families, "ga4_error_page_views") == 0


async def test_ga4_title_matching_agrees_with_the_documented_server_side_filter(
    fake: tuple[FakeGa4, ThreadedServer, Path],
) -> None:
    """The client-side title match gives what the §3.2 dimensionFilter gives when GA applies it."""
    state, server, key_file = fake
    source, families = await collect(ga4_config(key_file, server.url))
    async with httpx.AsyncClient() as client:
        token = await Ga4Source(ga4_config(key_file, server.url), client).auth.token()
        body = {
            "metrics": [{"name": "screenPageViews"}],
            "dimensionFilter": {
                "orGroup": {
                    "expressions": [
                        {
                            "filter": {
                                "fieldName": "unifiedScreenName",
                                "stringFilter": {"matchType": "CONTAINS", "value": "404", "caseSensitive": False},
                            }
                        },
                        {
                            "filter": {
                                "fieldName": "unifiedScreenName",
                                "stringFilter": {
                                    "matchType": "PARTIAL_REGEXP",
                                    "value": "(?i)not found|페이지를 찾을 수 없",
                                },
                            }
                        },
                    ]
                }
            },
        }
        url = f"{server.url}/v1beta/properties/{PROPERTY}:runRealtimeReport"
        response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    filtered = response.json()
    assert "propertyQuota" not in filtered  # only on request
    assert float(filtered["rows"][0]["metricValues"][0]["value"]) == value(families, "ga4_error_page_views") == 7


async def test_ga4_fake_rejects_what_realtime_rejects(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    url = f"{server.url}/v1beta/properties/{PROPERTY}:runRealtimeReport"
    async with httpx.AsyncClient() as client:
        token = await Ga4Source(ga4_config(key_file, server.url), client).auth.token()
        headers = {"Authorization": f"Bearer {token}"}
        metrics = [{"name": "screenPageViews"}]
        date_ranges = await client.post(
            url, json={"metrics": metrics, "dateRanges": [{"startDate": "today", "endDate": "today"}]}, headers=headers
        )
        page_path = await client.post(
            url, json={"metrics": metrics, "dimensions": [{"name": "pagePath"}]}, headers=headers
        )
    for response in (date_ranges, page_path):
        assert response.status_code == 400
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


# -- configuration ---------------------------------------------------------------------------
def broken_key(tmp_path: Path, kind: str, static_key: Path) -> Path:
    path = tmp_path / "broken.json"
    info = json.loads(static_key.read_text())
    if kind == "missing":
        return tmp_path / "nope.json"
    if kind == "not_json":
        path.write_text("-----BEGIN PRIVATE KEY-----\n")
    elif kind == "user":
        path.write_text(json.dumps({"type": "authorized_user", "client_id": "x", "refresh_token": "y"}))
    elif kind == "fields":
        del info["client_email"], info["token_uri"]
        path.write_text(json.dumps(info))
    elif kind == "pem":
        info["private_key"] = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
        path.write_text(json.dumps(info))
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "cannot read"),
        ("not_json", "is not JSON"),
        ("user", "not a service-account key (type is 'authorized_user'"),
        ("fields", "missing client_email, token_uri"),
        ("pem", "private_key is not a valid PEM-encoded RSA private key"),
    ],
)
def test_ga4_broken_key_file_is_a_config_error(tmp_path: Path, static_key: Path, kind: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        ga4_config(broken_key(tmp_path, kind, static_key))
    message = str(info.value)
    assert "ga4.credentials_file" in message and expected in message
    assert "c2VjcmV0" not in message


def test_ga4_enabled_only_with_property_and_credentials(static_key: Path) -> None:
    def enabled(env: dict[str, str]) -> bool:
        return config_from_mapping({}, env).sources["ga4"].enabled

    assert enabled({"GA4_PROPERTY_ID": PROPERTY, "GOOGLE_APPLICATION_CREDENTIALS": str(static_key)})
    assert not enabled({})
    # the same variable serves other Google libraries: alone, it neither enables GA4 nor gets validated
    assert not enabled({"GOOGLE_APPLICATION_CREDENTIALS": "/does/not/exist.json"})
    with pytest.raises(ConfigError, match="ga4.credentials_file: required"):
        enabled({"GA4_PROPERTY_ID": PROPERTY})


def test_ga4_config_checks_property_id_and_bounds(static_key: Path) -> None:
    env = {"GA4_PROPERTY_ID": "G-ABC123", "GOOGLE_APPLICATION_CREDENTIALS": str(static_key)}
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"ga4": {"top_events": 51, "error_page_pattern": "("}}, env)
    message = str(info.value)
    assert "ga4.property_id: must be the numeric GA4 property id" in message
    assert "ga4.top_events: must be at most 50" in message
    assert "ga4.error_page_pattern: not a valid regular expression" in message


def test_ga4_config_never_shows_the_key(static_key: Path) -> None:
    config = ga4_config(static_key)
    assert "PRIVATE KEY" not in repr(config) and "PRIVATE KEY" not in str(config)
    assert config.client_email == EMAIL and config.interval == 60 and config.top_events == 10


# -- the command ----------------------------------------------------------------------------
def run_exporter(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", "--once", "--log.level", "warn"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_ga4_exporter_exits_2_on_a_broken_key_file(tmp_path: Path, static_key: Path) -> None:
    key_file = broken_key(tmp_path, "user", static_key)
    result = run_exporter({"GA4_PROPERTY_ID": PROPERTY, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)})
    assert result.returncode == 2
    assert "ga4.credentials_file" in result.stderr and "not a service-account key" in result.stderr


def test_ga4_exporter_once_against_the_fakes(fake: tuple[FakeGa4, ThreadedServer, Path]) -> None:
    state, server, key_file = fake
    result = run_exporter(
        {"GA4_PROPERTY_ID": PROPERTY, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "GA4_API_BASE": server.url}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f'ga4_active_users{{property="{PROPERTY}"}} 37.0' in lines
    assert f'ga4_page_views{{property="{PROPERTY}"}} 157.0' in lines
    assert f'ga4_error_page_views{{property="{PROPERTY}"}} 7.0' in lines
    assert f'ga4_event_count{{event_name="scroll",property="{PROPERTY}"}} 50.0' in lines
    hour_left = state.quota["tokensPerHour"]
    assert f'ga4_quota_tokens_remaining{{period="hour",property="{PROPERTY}"}} {hour_left:.1f}' in lines
    assert 'allim_source_up{source="ga4"} 1.0' in lines
    assert any(line.startswith('allim_upstream_rate_limit_remaining{source="ga4"}') for line in lines)
    assert len(state.api_requests) == 2
