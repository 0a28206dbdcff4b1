"""HetrixTools source and webhook: pure mapping on recorded payloads, then against the fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from allim.settings import Settings
from exporter.app import create_app
from exporter.config import config_from_mapping
from exporter.scheduler import poll_once
from exporter.snapshot import Snapshot
from exporter.sources.hetrixtools import HetrixToolsConfig, HetrixToolsSource, load_hetrixtools_config
from exporter.sources.hetrixtools.metrics import families_from_monitors, monitors_from_page
from exporter.sources.upstream import SourceError
from tests.fakes.hetrixtools import API_KEY, FakeHetrixTools, build_monitors, webhook_payload
from tests.support import Process, eventually, free_port, python_module, recorded, samples, wait_until

TOKEN = "webhook-token-7f3a"


def load_fixture(name: str) -> Any:
    return recorded("hetrixtools", name)


def exposition_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return samples(list(text_string_to_metric_families(text)))


def key(name: str, monitor: dict[str, Any], **extra: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {
        "monitor_id": monitor["id"],
        "monitor_name": monitor["name"],
        "target": monitor["target"] or "",
        "monitor_type": monitor["type"],
        **extra,
    }
    return name, tuple(sorted(labels.items()))


def make_config(api_base: str = "http://127.0.0.1:1", **section: Any) -> HetrixToolsConfig:
    env = {"HETRIXTOOLS_API_KEY": API_KEY, "HETRIXTOOLS_API_BASE": api_base, "HETRIXTOOLS_WEBHOOK_TOKEN": TOKEN}
    settings = Settings(section, env)
    config = load_hetrixtools_config(settings)
    settings.raise_if_problems()
    return config


def app_config(api_base: str, host: bool = False, **section: Any) -> Any:
    env = {"HETRIXTOOLS_API_KEY": API_KEY, "HETRIXTOOLS_API_BASE": api_base, "HETRIXTOOLS_WEBHOOK_TOKEN": TOKEN}
    return config_from_mapping({"host": {"enabled": host}, "hetrixtools": {"interval": "60s", **section}}, env)


@pytest.fixture
def fake() -> Iterator[FakeHetrixTools]:
    fake = FakeHetrixTools(build_monitors(30, 3))
    with fake.serve():
        yield fake


@pytest.fixture
def big_fake() -> Iterator[FakeHetrixTools]:
    """Three pages at the maximum per_page of 200."""
    fake = FakeHetrixTools(build_monitors(450, 3))
    with fake.serve():
        yield fake


# -- pure mapping --------------------------------------------------------------------------------


def test_hetrixtools_maps_documented_monitors(recorded_payload: Callable[[str, str], Any]) -> None:
    data = recorded_payload("hetrixtools", "uptime_monitors.json")
    monitors, next_page = monitors_from_page(data)
    got = samples(families_from_monitors(monitors))
    demo, api, shop = data["monitors"]
    assert next_page is None
    assert got[key("hetrixtools_monitor_up", demo)] == 1
    assert got[key("hetrixtools_monitor_up", api)] == 0
    assert key("hetrixtools_monitor_up", shop) not in got  # maintenance: never reported as down
    assert got[key("hetrixtools_monitor_status", shop, status="maint")] == 1
    assert got[key("hetrixtools_monitor_status", demo, status="active")] == 1
    assert got[key("hetrixtools_monitor_uptime_ratio", demo)] == pytest.approx(0.999588)
    assert got[key("hetrixtools_monitor_response_time_seconds", demo, location="new_york")] == pytest.approx(0.074)
    assert got[key("hetrixtools_monitor_response_time_seconds", api, location="frankfurt")] == pytest.approx(1.5)
    assert got[key("hetrixtools_monitor_last_check_timestamp_seconds", demo)] == 1641832650
    assert len([k for k in got if k[0] == "hetrixtools_monitor_response_time_seconds"]) == 6


def test_hetrixtools_parses_string_uptime_array_locations_and_heartbeats(
    recorded_payload: Callable[[str, str], Any],
) -> None:
    data = recorded_payload("hetrixtools", "uptime_monitors_quirks.json")
    monitors, next_page = monitors_from_page(data)
    got = samples(families_from_monitors(monitors))
    blog, heartbeat, paused, odd, _ = data["monitors"]
    assert next_page == 2
    assert len(monitors) == 4  # the entry without an id is skipped
    assert got[key("hetrixtools_monitor_uptime_ratio", blog)] == pytest.approx(0.991234)
    assert got[key("hetrixtools_monitor_response_time_seconds", blog, location="sydney")] == pytest.approx(0.31)
    assert got[key("hetrixtools_monitor_response_time_seconds", blog, location="sao_paulo")] == pytest.approx(0.205)
    assert got[key("hetrixtools_monitor_up", heartbeat)] == 1
    assert dict(key("x", heartbeat)[1])["target"] == ""
    assert key("hetrixtools_monitor_up", paused) not in got
    assert got[key("hetrixtools_monitor_status", paused, status="paused")] == 1
    assert got[key("hetrixtools_monitor_status", odd, status="unknown")] == 1
    assert key("hetrixtools_monitor_up", odd) not in got
    assert key("hetrixtools_monitor_uptime_ratio", odd) not in got
    assert key("hetrixtools_monitor_last_check_timestamp_seconds", odd) not in got


def test_hetrixtools_rejects_a_page_without_monitors() -> None:
    with pytest.raises(SourceError) as err:
        monitors_from_page({"data": []})
    assert err.value.reason == "parse"


def test_hetrixtools_config_enabled_only_with_an_api_key() -> None:
    assert not load_hetrixtools_config(Settings({}, {})).enabled
    settings = Settings({"enabled": True}, {})
    load_hetrixtools_config(settings)
    assert any("api_key" in p and "HETRIXTOOLS_API_KEY" in p for p in settings.problems)
    config = make_config("https://example.test/")
    assert config.enabled and config.interval == 60 and config.per_page == 200
    assert config.api_base == "https://example.test"
    assert API_KEY not in repr(config) and TOKEN not in repr(config)
    settings = Settings({"per_page": 500}, {"HETRIXTOOLS_API_KEY": "k"})
    load_hetrixtools_config(settings)
    assert settings.problems == ["per_page: must be at most 200, got 500"]


# -- against the fake ----------------------------------------------------------------------------


async def test_hetrixtools_metrics_equal_what_the_fake_serves(big_fake: FakeHetrixTools) -> None:
    fake = big_fake
    async with httpx.AsyncClient() as client:
        source = HetrixToolsSource(make_config(fake.url), client)
        got = samples(await source.collect())
    calls = fake.calls()
    assert [c["params"] for c in calls] == [{"page": str(p), "per_page": "200"} for p in (1, 2, 3)]
    assert all(c["auth"] for c in calls)
    expected: dict[Any, float] = {}
    for m in fake.monitors:
        if m["monitor_status"] == "active":
            expected[key("hetrixtools_monitor_up", m)] = 1.0 if m["uptime_status"] == "up" else 0.0
        expected[key("hetrixtools_monitor_uptime_ratio", m)] = float(m["uptime"]) / 100
        expected[key("hetrixtools_monitor_last_check_timestamp_seconds", m)] = m["last_check"]
        expected[key("hetrixtools_monitor_status", m, status=m["monitor_status"])] = 1.0
        locations = m["locations"]
        items = {i["location"]: i for i in locations} if isinstance(locations, list) else locations
        for location, details in items.items():
            name = "hetrixtools_monitor_response_time_seconds"
            expected[key(name, m, location=location)] = details["response_time"] / 1000
    assert got == pytest.approx(expected)
    assert source.gate.remaining == 97  # the endpoint's allowance after three calls


async def test_hetrixtools_429_defers_the_next_call_until_the_reset(fake: FakeHetrixTools) -> None:
    now = [1_800_000_000.0]
    fake.reset_at = now[0] + 30
    fake.rate_limited = True
    async with httpx.AsyncClient() as client:
        source = HetrixToolsSource(make_config(fake.url, per_page=10), client, clock=lambda: now[0])
        for _ in range(3):
            with pytest.raises(SourceError) as err:
                await source.collect()
            assert err.value.reason == "rate_limited"
        assert len(fake.calls()) == 1  # the later attempts made no call at all
        assert source.gate.remaining == 0
        fake.rate_limited = False
        now[0] += 29
        with pytest.raises(SourceError):
            await source.collect()
        assert len(fake.calls()) == 1
        now[0] += 1
        assert await source.collect()
        assert len(fake.calls()) == 4


async def test_hetrixtools_exhausted_allowance_defers_without_a_429(fake: FakeHetrixTools) -> None:
    now = [1_800_000_000.0]
    fake.reset_at = now[0] + 60
    fake.limit_endpoint = 2
    async with httpx.AsyncClient() as client:
        source = HetrixToolsSource(make_config(fake.url, per_page=10), client, clock=lambda: now[0])
        with pytest.raises(SourceError) as err:
            await source.collect()
        assert err.value.reason == "rate_limited"
        assert len(fake.calls()) == 2  # stopped before a third call that would have been refused


@pytest.mark.parametrize(
    ("switch", "value", "reason"),
    [
        ("fail_status", 500, "http_5xx"),
        ("fail_status", 503, "http_5xx"),
        ("garbage", True, "parse"),
        ("api_key", "other-key", "http_4xx"),
    ],
)
async def test_hetrixtools_upstream_failures_are_classified_without_the_key(
    fake: FakeHetrixTools, caplog: pytest.LogCaptureFixture, switch: str, value: object, reason: str
) -> None:
    setattr(fake, switch, value)
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient() as client:
        source = HetrixToolsSource(make_config(fake.url), client)
        snapshot = Snapshot([source])
        assert await poll_once(source, snapshot) == reason
    assert API_KEY not in caplog.text
    assert snapshot.states["hetrixtools"].errors[reason] == 1


async def test_hetrixtools_slow_upstream_times_out(fake: FakeHetrixTools) -> None:
    fake.delay = 0.5
    async with httpx.AsyncClient() as client:
        source = HetrixToolsSource(make_config(fake.url, interval="1s", timeout="0.2s"), client)
        assert await poll_once(source, Snapshot([source])) == "timeout"


def test_hetrixtools_failing_upstream_marks_only_hetrixtools_down(fake: FakeHetrixTools) -> None:
    fake.fail_status = 500
    app = create_app(app_config(fake.url, host=True))
    with TestClient(app) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10, what="first polls")
        got = exposition_samples(client.get("/metrics").text)
    assert got[("allim_source_up", (("source", "hetrixtools"),))] == 0
    assert got[("allim_source_up", (("source", "host"),))] == 1
    assert got[("allim_source_errors_total", (("reason", "http_5xx"), ("source", "hetrixtools")))] == 1
    assert not any(name.startswith("hetrixtools_") for name, _ in got)
    assert ("host_load1", ()) in got


# -- webhook -------------------------------------------------------------------------------------


@pytest.fixture
def webhook_client(fake: FakeHetrixTools) -> Iterator[TestClient]:
    with TestClient(create_app(app_config(fake.url))) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10, what="first poll")
        yield client


def up_value(client: TestClient, monitor: dict[str, Any]) -> float | None:
    return exposition_samples(client.get("/metrics").text).get(key("hetrixtools_monitor_up", monitor))


def webhook_count(client: TestClient, code: str) -> float:
    got = exposition_samples(client.get("/metrics").text)
    return got.get(("allim_webhook_requests_total", (("code", code), ("source", "hetrixtools"))), 0.0)


def test_hetrixtools_webhook_offline_then_online_with_query_token(
    fake: FakeHetrixTools, webhook_client: TestClient
) -> None:
    monitor = fake.monitors[0]
    assert up_value(webhook_client, monitor) == 1
    response = webhook_client.post(f"/webhooks/hetrixtools?token={TOKEN}", json=webhook_payload(monitor, False))
    assert response.status_code == 200, response.text
    assert up_value(webhook_client, monitor) == 0
    response = webhook_client.post(
        f"/webhooks/hetrixtools?token={TOKEN}", json=webhook_payload(monitor, True, timestamp=fake_time(1))
    )
    assert response.status_code == 200
    assert up_value(webhook_client, monitor) == 1
    assert webhook_count(webhook_client, "200") == 2


def fake_time(offset: int) -> int:
    return 1_760_000_200 + offset


def test_hetrixtools_webhook_accepts_a_bearer_token(fake: FakeHetrixTools, webhook_client: TestClient) -> None:
    monitor = next(m for m in fake.monitors if m["type"] == "service")  # sent as "service443"
    response = webhook_client.post(
        "/webhooks/hetrixtools", json=webhook_payload(monitor, False), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    assert up_value(webhook_client, monitor) == 0


def test_hetrixtools_webhook_rejects_a_wrong_or_missing_token(
    fake: FakeHetrixTools, webhook_client: TestClient
) -> None:
    monitor = fake.monitors[0]
    for url, headers in [
        ("/webhooks/hetrixtools", {}),
        ("/webhooks/hetrixtools?token=wrong", {}),
        ("/webhooks/hetrixtools", {"Authorization": "Bearer wrong"}),
        (f"/webhooks/hetrixtools?token={TOKEN}x", {}),
    ]:
        response = webhook_client.post(url, json=webhook_payload(monitor, False), headers=headers)
        assert response.status_code == 401
        assert response.text == "missing or wrong token\n"
    assert up_value(webhook_client, monitor) == 1
    assert webhook_count(webhook_client, "401") == 4


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "must be a JSON object"),
        (b'{"monitor_status": "offline"}', "application/json", 400, "missing field monitor_id"),
        (b'{"monitor_id": "abc"}', "application/json", 400, "missing field monitor_status"),
        (b'{"monitor_id": "abc", "monitor_status": "down"}', "application/json", 400, "online or offline"),
        (b'{"monitor_id": "abc", "monitor_status": "offline"}', "text/plain", 415, "application/json"),
        (b"{" + b" " * (1024 * 1024) + b"}", "application/json", 413, "larger than"),
    ],
)
def test_hetrixtools_webhook_rejects_bad_input(
    webhook_client: TestClient, body: bytes, content_type: str, status: int, reason: str
) -> None:
    response = webhook_client.post(
        f"/webhooks/hetrixtools?token={TOKEN}", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert reason in response.text and response.text.count("\n") == 1
    assert webhook_client.get("/healthz").status_code == 200


def test_hetrixtools_webhook_for_an_unlisted_monitor_shows_and_is_capped(fake: FakeHetrixTools) -> None:
    with TestClient(create_app(app_config(fake.url, max_unknown_monitors=2))) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10, what="first poll")
        payloads = [load_fixture("webhook_offline.json") for _ in range(3)]
        for i, payload in enumerate(payloads):
            payload["monitor_id"] = f"new-monitor-{i}"
            assert client.post(f"/webhooks/hetrixtools?token={TOKEN}", json=payload).status_code == 200
        got = exposition_samples(client.get("/metrics").text)
    shown = {dict(labels)["monitor_id"] for name, labels in got if name == "hetrixtools_monitor_up"}
    assert "new-monitor-0" not in shown  # the oldest was dropped to stay within the cap
    labels = {"monitor_id": "new-monitor-2", "monitor_name": "Test Monitor Label"}
    labels |= {"target": "http://this-is-a-test.com/", "monitor_type": "website"}
    assert got[("hetrixtools_monitor_up", tuple(sorted(labels.items())))] == 0
    assert "new-monitor-1" in shown


def test_hetrixtools_webhook_answers_404_while_the_source_is_disabled() -> None:
    config = config_from_mapping({"host": {"enabled": False}}, {"HETRIXTOOLS_WEBHOOK_TOKEN": TOKEN})
    with TestClient(create_app(config)) as client:
        response = client.post(f"/webhooks/hetrixtools?token={TOKEN}", json=load_fixture("webhook_offline.json"))
    assert response.status_code == 404
    assert response.text == "the hetrixtools source is not enabled\n"


def test_hetrixtools_webhook_never_shows_a_paused_monitor_as_down(
    fake: FakeHetrixTools, webhook_client: TestClient
) -> None:
    paused = next(m for m in fake.monitors if m["monitor_status"] == "paused")
    response = webhook_client.post(f"/webhooks/hetrixtools?token={TOKEN}", json=webhook_payload(paused, False))
    assert response.status_code == 200
    assert up_value(webhook_client, paused) is None


def test_hetrixtools_webhook_ignores_an_older_event(fake: FakeHetrixTools, webhook_client: TestClient) -> None:
    monitor = fake.monitors[0]
    url = f"/webhooks/hetrixtools?token={TOKEN}"
    assert webhook_client.post(url, json=webhook_payload(monitor, False, timestamp=fake_time(10))).status_code == 200
    response = webhook_client.post(url, json=webhook_payload(monitor, True, timestamp=fake_time(5)))
    assert response.status_code == 200 and response.text.startswith("ignored")
    assert up_value(webhook_client, monitor) == 0


async def test_hetrixtools_poll_started_before_a_webhook_does_not_undo_it(fake: FakeHetrixTools) -> None:
    monitor = fake.monitors[0]
    async with httpx.AsyncClient() as upstream:
        app = create_app(app_config(fake.url), client=upstream, start_polling=False)
        state = app.state.exporter
        source, snapshot = state.sources["hetrixtools"], state.snapshot
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as client:

            async def up() -> float | None:
                text = (await client.get("/metrics")).text
                return exposition_samples(text).get(key("hetrixtools_monitor_up", monitor))

            assert await poll_once(source, snapshot) is None
            assert await up() == 1
            fake.hold.clear()
            poll = asyncio.create_task(poll_once(source, snapshot))
            await eventually(lambda: len(fake.calls()) == 2, timeout=5, what="the poll's first call")
            response = await client.post(f"/webhooks/hetrixtools?token={TOKEN}", json=webhook_payload(monitor, False))
            assert response.status_code == 200
            assert await up() == 0
            fake.hold.set()
            assert await poll is None
            assert await up() == 0  # the poll began before the webhook: its "up" must not win
            assert await poll_once(source, snapshot) is None
            assert await up() == 1  # a poll that started after the webhook confirms the upstream state


def test_hetrixtools_exporter_process_applies_an_offline_webhook_within_a_second(
    fake: FakeHetrixTools, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "exporter.yml"
    config.write_text("host:\n  enabled: false\n")
    env = {"HETRIXTOOLS_API_KEY": API_KEY, "HETRIXTOOLS_API_BASE": fake.url, "HETRIXTOOLS_WEBHOOK_TOKEN": TOKEN}
    args = python_module("exporter", "--config.file", str(config), "--web.listen-address", f"127.0.0.1:{port}")
    exporter = Process(args, tmp_path / "exporter.log", env)
    try:
        base = f"http://127.0.0.1:{port}"
        exporter.wait_http(f"{base}/readyz")
        monitor = fake.monitors[1]

        def up() -> float | None:
            text = httpx.get(f"{base}/metrics", timeout=2).text
            return exposition_samples(text).get(key("hetrixtools_monitor_up", monitor))

        assert up() == 1
        started = time.monotonic()
        response = httpx.post(f"{base}/webhooks/hetrixtools?token={TOKEN}", json=webhook_payload(monitor, False))
        assert response.status_code == 200
        wait_until(lambda: up() == 0, timeout=1, interval=0.02, what="up=0 after the webhook")
        assert time.monotonic() - started < 1
    finally:
        exporter.stop()
    log = (tmp_path / "exporter.log").read_text()
    assert API_KEY not in log and TOKEN not in log
