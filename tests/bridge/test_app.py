import asyncio
import base64
import contextlib
import json
import sqlite3

import httpx
import pytest

from allim.secret import Secret
from bridge.app import create_app
from bridge.channels import SendError
from tests.bridge.helpers import FakeChannel, make_config, webhook

TOKEN = "s3cret-token-value"


@pytest.fixture
def channel():
    return FakeChannel()


@contextlib.asynccontextmanager
async def make_client(tmp_path, channels, *, token=None, **outbox):
    """The app with its lifespan running, and an HTTP client talking to it in-process."""
    config = make_config(tmp_path, receivers=tuple(channels), **outbox)
    if token:
        config = type(config)(config.receivers, Secret(token), config.outbox, config.dedup_window)
    app = create_app(config, channels=channels)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            client.app = app
            yield client


@pytest.fixture
async def client(tmp_path, channel):
    async with make_client(tmp_path, {"default": [channel], "ops": [FakeChannel("other")]}) as client:
        yield client


def metric(client, name, **labels):
    return client.app.state.bridge.metrics.registry.get_sample_value(name, labels) or 0


async def wait_until(predicate, timeout=5.0, what=""):
    for _ in range(int(timeout / 0.01)):
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or predicate}")


async def delivery_state(client):
    return (await client.get("/api/notifications")).json()["notifications"][0]["deliveries"][0]["state"]


async def test_app_accepts_a_webhook_and_delivers_it(client, channel):
    response = await client.post("/alertmanager/default", json=webhook(1))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    await wait_until(lambda: channel.sent, timeout=5, what="delivery")
    assert channel.sent[0].receiver == "default" and channel.sent[0].alerts[0].fingerprint == "fp00000000000001"
    await wait_until(lambda: delivery_state(client), what="listed")
    assert await delivery_state(client) == "sent"
    listed = (await client.get("/api/notifications")).json()["notifications"][0]
    assert listed["alertnames"] == ["Probe1"] and listed["deliveries"][0]["target"] == "fake:room"
    assert metric(client, "allim_bridge_webhook_requests_total", code="200") == 1


async def test_app_acknowledges_a_duplicate_without_sending_it_again(client, channel):
    assert (await client.post("/alertmanager/default", json=webhook(1))).json()["status"] == "accepted"
    second = await client.post("/alertmanager/default", json=webhook(1))
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert (await client.post("/alertmanager/default", json=webhook(1, "resolved"))).json()["status"] == "accepted"
    await wait_until(lambda: len(channel.sent) == 2, timeout=5)
    assert [n.status for n in channel.sent] == ["firing", "resolved"]
    assert metric(client, "allim_bridge_duplicates_total") == 1


async def test_app_routes_by_receiver_and_rejects_unknown_ones(client, channel):
    assert (await client.post("/alertmanager/ops", json=webhook(1))).status_code == 200
    response = await client.post("/alertmanager/nope", json=webhook(1))
    assert response.status_code == 404 and "unknown receiver 'nope'" in response.text
    assert channel.sent == []


@pytest.mark.parametrize(
    ("kwargs", "code", "reason"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"a=b", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "content type"),
        ({"json": {**webhook(1), "version": "3"}}, 400, "unsupported payload version"),
        ({"json": {**webhook(1), "alerts": []}}, 400, "alerts must be a non-empty list"),
        ({"json": [1, 2]}, 400, "JSON object"),
        ({"content": b"[" + b" " * (2 << 20) + b"]", "headers": {"content-type": "application/json"}}, 413, "larger"),
    ],
)
async def test_app_rejects_bad_input_with_a_one_line_reason(client, channel, kwargs, code, reason):
    response = await client.post("/alertmanager/default", **kwargs)
    assert response.status_code == code
    assert reason in response.text and response.text.count("\n") == 1
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.post("/alertmanager/default", json=webhook(7))).status_code == 200
    assert metric(client, "allim_bridge_webhook_requests_total", code=str(code)) == 1


async def test_app_limits_a_streamed_body_without_content_length(client):
    async def chunks():
        for _ in range(40):
            yield b" " * 65536

    headers = {"content-type": "application/json"}
    response = await client.post("/alertmanager/default", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_app_requires_the_token_on_write_endpoints(tmp_path, channel):
    async with make_client(tmp_path, {"default": [channel]}, token=TOKEN) as client:
        basic = base64.b64encode(f"alertmanager:{TOKEN}".encode()).decode()
        wrong = base64.b64encode(b"alertmanager:guess").decode()
        for headers, code in [
            ({}, 401),
            ({"Authorization": "Bearer guess"}, 401),
            ({"Authorization": f"Basic {wrong}"}, 401),
            ({"Authorization": "Basic !!!"}, 401),
            ({"Authorization": f"Bearer {TOKEN}"}, 200),
            ({"Authorization": f"Basic {basic}"}, 200),
        ]:
            response = await client.post("/alertmanager/default", json=webhook(len(headers) + code), headers=headers)
            assert response.status_code == code, headers
            assert TOKEN not in response.text
        assert (await client.post("/api/alerts/send", json={"rule_name": "X"})).status_code == 401
        assert (await client.get("/api/notifications")).status_code == 401
        assert (await client.get("/metrics")).status_code == 200


async def test_app_answers_503_when_the_outbox_is_locked(tmp_path, channel):
    async with make_client(tmp_path, {"default": [channel]}, busy_timeout=0.1) as client:
        other = sqlite3.connect(tmp_path / "outbox.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            response = await client.post("/alertmanager/default", json=webhook(1))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert response.status_code == 503 and "locked" in response.text
        assert (await client.post("/alertmanager/default", json=webhook(1))).status_code == 200  # not a duplicate


async def test_app_answers_503_when_the_outbox_is_full(tmp_path):
    blocked = FakeChannel(errors=[SendError("down", retryable=True, retry_after=3600)])
    async with make_client(tmp_path, {"default": [blocked]}, max_pending=1) as client:
        assert (await client.post("/alertmanager/default", json=webhook(1))).status_code == 200
        response = await client.post("/alertmanager/default", json=webhook(2))
        assert response.status_code == 503 and "full" in response.text
        assert metric(client, "allim_bridge_outbox_pending", channel="fake") == 1


async def test_app_shows_dead_deliveries_in_the_api_and_metrics(tmp_path):
    failing = FakeChannel(errors=[SendError("HTTP 404: unknown webhook", retryable=False, reason="http_404")])
    async with make_client(tmp_path, {"default": [failing]}) as client:
        await client.post("/alertmanager/default", json=webhook(1))
        labels = {"channel": "fake", "reason": "http_404"}
        await wait_until(lambda: metric(client, "allim_bridge_notifications_failed_total", **labels))
        delivery = (await client.get("/api/notifications")).json()["notifications"][0]["deliveries"][0]
        assert delivery["state"] == "dead" and delivery["last_error"] == "HTTP 404: unknown webhook"


async def test_app_accepts_the_legacy_api_through_default(client, channel):
    body = {"rule_name": "DiskFull", "severity": "critical", "metric_data": {"metric_value": 93.5}}
    headers = {"content-type": "application/json"}
    response = await client.post("/api/alerts/send", content=json.dumps(body), headers=headers)
    assert response.status_code == 200
    await wait_until(lambda: channel.sent, timeout=5)
    assert channel.sent[0].alerts[0].labels["alertname"] == "DiskFull"
    assert (await client.post("/api/alerts/send", json={"metric_data": {}})).status_code == 400


async def test_app_serves_health_and_metrics(client):
    assert (await client.get("/healthz")).text == "ok\n"
    assert (await client.get("/readyz")).status_code == 200
    text = (await client.get("/metrics")).text
    for name in (
        "allim_bridge_notifications_total",
        "allim_bridge_notification_requests_total",
        "allim_bridge_outbox_pending",
        "allim_bridge_duplicates_total",
        "allim_bridge_delivery_seconds_bucket",
    ):
        assert name in text
