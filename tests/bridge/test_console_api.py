"""The JSON API for scripts: listing with filters, one notification, retry, retry all dead, send test; on both
stores where the store does the work."""

from __future__ import annotations

import io

import pytest

from bridge.channels.log import LogChannel
from bridge.config import Formatting
from tests.bridge.console_client import (
    BEARER,
    bridge_client,
    deliveries,
    failing_then_ok,
    states,
    unknown_webhook,
)
from tests.bridge.helpers import FakeChannel, webhook
from tests.support import eventually


@pytest.fixture
def channels():
    return {"default": [failing_then_ok()], "ops": [FakeChannel("email", "email:ops@example.com")]}


async def test_api_lists_newest_first_with_filters_and_titles(tmp_path, channels, store, request):
    async with bridge_client(tmp_path, channels, store=store, request=request) as client:
        for n, receiver in ((1, "default"), (2, "ops"), (3, "ops")):
            assert (await client.post(f"/alertmanager/{receiver}", json=webhook(n), headers=BEARER)).status_code == 200
        await eventually(lambda: _all_done(client), what="every delivery sent or dead")

        everything = (await client.get("/api/notifications", headers=BEARER)).json()
        assert [n["id"] for n in everything["notifications"]] == [3, 2, 1]
        assert everything["notifications"][0]["title"] == "[WARNING] Probe3 — 127.0.0.1:51739"
        assert everything["next_before"] is None

        dead = (await client.get("/api/notifications?state=dead", headers=BEARER)).json()["notifications"]
        assert [n["id"] for n in dead] == [1]
        assert dead[0]["deliveries"][0]["last_error"] == "discord answered 404: Unknown Webhook (code 10015)"
        assert dead[0]["deliveries"][0]["target"] == "discord:webhooks/999/***"
        ops = (await client.get("/api/notifications?receiver=ops&limit=1", headers=BEARER)).json()
        assert [n["id"] for n in ops["notifications"]] == [3] and ops["next_before"] == 3
        older = (await client.get("/api/notifications?receiver=ops&before=3", headers=BEARER)).json()
        assert [n["id"] for n in older["notifications"]] == [2]
        for bad in ("state=lost", "limit=many", "before=x"):
            response = await client.get(f"/api/notifications?{bad}", headers=BEARER)
            assert response.status_code == 400, bad


async def _all_done(client) -> bool:
    found = await states(client)
    return len(found) == 3 and "pending" not in found


async def test_api_shows_one_notification_with_its_alerts_and_the_text_sent(tmp_path, channels):
    channels["ops"] = [LogChannel(Formatting(), stream=io.StringIO())]  # a real channel, with a preview
    async with bridge_client(tmp_path, channels) as client:
        await client.post("/alertmanager/ops", json=webhook(4), headers=BEARER)
        body = (await client.get("/api/notifications/1", headers=BEARER)).json()
        summary = body["notification"]
        assert summary["receiver"] == "ops" and summary["title"].startswith("[WARNING] Probe4")
        assert body["alerts"][0]["labels"]["alertname"] == "Probe4"
        assert body["alerts"][0]["fingerprint"] == "fp00000000000004"
        (preview,) = body["previews"]
        assert preview["channel_key"] == "ops/log/0" and '"title": "[WARNING] Probe4' in preview["parts"][0]["text"]
        missing = await client.get("/api/notifications/999", headers=BEARER)
        assert missing.status_code == 404 and "no notification 999" in missing.text
        assert (await client.get("/api/notifications/abc", headers=BEARER)).status_code == 404


async def test_api_retry_sends_a_dead_delivery_again(tmp_path, channels, store, request):
    async with bridge_client(tmp_path, channels, store=store, request=request) as client:
        await client.post("/alertmanager/default", json=webhook(1), headers=BEARER)
        await eventually(lambda: _state_is(client, "dead"), what="the delivery to go dead")
        (delivery,) = await deliveries(client)

        response = await client.post("/api/notifications/1/retry", headers=BEARER)
        assert response.status_code == 200
        assert response.json() == {
            "notification": 1,
            "retried": [{"id": delivery["id"], "channel_key": "default/discord/0"}],
        }
        await eventually(lambda: _state_is(client, "sent"), what="the retried delivery to go out")
        assert len(channels["default"][0].sent) == 1
        (sent,) = await deliveries(client)
        assert sent["attempts"] == 1  # attempts were reset by the retry

        again = await client.post("/api/notifications/1/retry", headers=BEARER)
        assert again.status_code == 409 and "no dead delivery" in again.text
        assert (await client.post("/api/notifications/77/retry", headers=BEARER)).status_code == 404
        unknown = await client.post("/api/notifications/1/retry?delivery=9999", headers=BEARER)
        assert unknown.status_code == 404


async def _state_is(client, wanted: str) -> bool:
    return await states(client) == [wanted]


async def test_api_retry_dead_per_channel_name_key_or_all(tmp_path, store, request):
    channels = {
        "default": [FakeChannel("discord", "discord:webhooks/1/***", errors=[unknown_webhook() for _ in range(3)])],
        "ops": [FakeChannel("discord", "discord:webhooks/2/***", errors=[unknown_webhook()])],
    }
    async with bridge_client(tmp_path, channels, store=store, request=request) as client:
        for n, receiver in ((1, "default"), (2, "default"), (3, "ops")):
            await client.post(f"/alertmanager/{receiver}", json=webhook(n), headers=BEARER)
        await eventually(lambda: _all_dead(client, 3), what="three dead deliveries")

        by_key = await client.post("/api/channels/ops/discord/0/retry-dead", headers=BEARER)
        assert by_key.json() == {"channel": "ops/discord/0", "retried": 1}
        await eventually(lambda: channels["ops"][0].sent, what="ops to send")
        by_name = await client.post("/api/channels/discord/retry-dead", headers=BEARER)
        assert by_name.json() == {"channel": "discord", "retried": 2}
        # the third scripted refusal sends one of the two default deliveries back to dead
        await eventually(lambda: _all_dead(client, 1), what="one default delivery dead again, one sent")
        everything = await client.post("/api/channels/all/retry-dead", headers=BEARER)
        assert everything.json() == {"channel": "all", "retried": 1}
        await eventually(lambda: len(channels["default"][0].sent) == 2, what="both default deliveries")
        nothing = await client.post("/api/channels/email/retry-dead", headers=BEARER)
        assert nothing.status_code == 404 and "unknown channel 'email'" in nothing.text


async def _all_dead(client, count: int) -> bool:
    found = await states(client)
    return found.count("dead") == count and "pending" not in found


async def test_api_send_test_goes_through_the_webhook_path(tmp_path):
    ops = FakeChannel("email", "email:ops@example.com")
    async with bridge_client(tmp_path, {"default": [FakeChannel()], "ops": [ops]}) as client:
        response = await client.post("/api/receivers/ops/send-test", headers=BEARER)
        assert response.status_code == 200 and response.json()["status"] == "accepted"
        await eventually(lambda: len(ops.sent) == 2, timeout=10, what="firing then resolved")
        assert [n.status for n in ops.sent] == ["firing", "resolved"]
        assert ops.sent[0].alerts[0].name == "AllimSendTest" and ops.sent[0].receiver == "ops"
        missing = await client.post("/api/receivers/nope/send-test", headers=BEARER)
        assert missing.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/notifications"),
        ("GET", "/api/notifications/1"),
        ("POST", "/api/notifications/1/retry"),
        ("POST", "/api/channels/all/retry-dead"),
        ("POST", "/api/receivers/default/send-test"),
    ],
)
async def test_api_needs_the_token(tmp_path, channels, method, path):
    async with bridge_client(tmp_path, channels) as client:
        for headers in ({}, {"Authorization": "Bearer guess"}):
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
            assert "console-s3cret-token" not in response.text


async def test_api_refuses_a_browser_request_from_another_site(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site", "Origin": "http://bridge"},
        ):
            response = await client.post("/api/channels/all/retry-dead", headers={**BEARER, **headers})
            assert response.status_code == 403 and "another site" in response.text, headers
        same = {"Origin": "http://bridge", "Sec-Fetch-Site": "same-origin"}
        assert (await client.post("/api/channels/all/retry-dead", headers={**BEARER, **same})).status_code == 200
        forwarded = {"Origin": "https://alerts.example", "X-Forwarded-Host": "alerts.example"}
        assert (await client.post("/api/channels/all/retry-dead", headers={**BEARER, **forwarded})).status_code == 200


async def test_api_actions_without_a_token_only_when_switched_on(tmp_path, channels):
    async with bridge_client(tmp_path, channels, token=None) as client:
        assert (await client.get("/api/notifications")).status_code == 200  # reading stays open, as before
        refused = await client.post("/api/channels/all/retry-dead")
        assert refused.status_code == 403 and "--web.console-actions" in refused.text
    async with bridge_client(tmp_path / "on", channels, token=None, console_actions=True) as client:
        assert (await client.post("/api/channels/all/retry-dead")).json() == {"channel": "all", "retried": 0}
