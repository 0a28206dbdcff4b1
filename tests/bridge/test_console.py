"""The console's pages and form actions in-process: what it shows, who may see it, and which forms it accepts.
(tests/browser drives the same pages in a real browser.)"""

from __future__ import annotations

import base64
import copy
import io
import re

import pytest

from allim.rejected import Rejected
from allim.secret import Secret
from bridge.__main__ import parse_args
from bridge.channels.log import LogChannel
from bridge.config import Formatting
from bridge.console.csrf import MAX_AGE, FormTokens
from bridge.load import config_from_mapping
from tests.bridge.console_client import (
    BEARER,
    TOKEN,
    bridge_client,
    failing_then_ok,
    form_token,
    states,
)
from tests.bridge.helpers import FakeChannel, webhook
from tests.support import Clock, eventually

BASIC = {"Authorization": "Basic " + base64.b64encode(f"ops:{TOKEN}".encode()).decode()}
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def channels():
    return {"default": [failing_then_ok()], "ops": [FakeChannel("email", "email:ops@example.com,cto@example.com")]}


async def dead_notification(client) -> None:
    await client.post("/alertmanager/default", json=webhook(1), headers=BEARER)
    await eventually(lambda: _is(client, ["dead"]), what="the delivery to go dead")


async def _is(client, wanted, headers=BEARER) -> bool:
    return await states(client, headers) == wanted


async def test_console_overview_shows_receivers_counts_and_the_dead_reason(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        await dead_notification(client)
        page = await client.get("/", headers=BASIC)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]  # no script may run, none is sent
    assert "<script" not in html
    assert "sqlite path=" in html and str(tmp_path / "outbox.sqlite3") in html
    assert "discord:webhooks/999/***" in html and "email:ops@example.com,cto@example.com" in html
    row = re.search(r'<tr data-channel="default/discord/0">.*?</tr>', html, re.S).group(0)
    assert [int(n) for n in re.findall(r'<td class="num">(?:<span[^>]*>)?(\d+)', row)] == [0, 0, 1]
    assert "[WARNING] Probe1 — 127.0.0.1:51739" in html
    assert "discord answered 404: Unknown Webhook (code 10015)" in html
    assert 'action="notifications/1/retry"' in html and 'action="channels/default/discord/0/retry-dead"' in html
    assert 'action="receivers/ops/send-test"' in html
    assert TOKEN not in html


async def test_console_asks_for_the_token_with_a_basic_prompt(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        for path in ("/", "/notifications/1"):
            for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"ops:guess").decode()}):
                refused = await client.get(path, headers=headers)
                assert refused.status_code == 401
                assert refused.headers["www-authenticate"] == 'Basic realm="allim-bridge"'
        assert (await client.get("/", headers=BASIC)).status_code == 200
        assert (await client.get("/", headers=BEARER)).status_code == 200
        assert (await client.get("/static/allim.css")).headers["content-type"].startswith("text/css")


async def test_console_detail_shows_alerts_and_the_exact_text_sent(tmp_path):
    async with bridge_client(tmp_path, {"default": [LogChannel(Formatting(), stream=io.StringIO())]}) as client:
        await client.post("/alertmanager/default", json=webhook(2), headers=BEARER)
        page = await client.get("/notifications/1", headers=BASIC)
        missing = await client.get("/notifications/5", headers=BASIC)
    assert page.status_code == 200
    assert "alertname=Probe2" in page.text and "summary:</span> toggle=1 on 127.0.0.1:51739" in page.text
    assert "default/log/0" in page.text and "&#34;title&#34;: &#34;[WARNING] Probe2" in page.text
    assert 'href="../static/allim.css"' in page.text and 'href="http://127.0.0.1:42257/graph' in page.text
    assert missing.status_code == 404 and "no notification 5" in missing.text


async def test_console_escapes_what_alerts_say(tmp_path, channels):
    body = copy.deepcopy(webhook(3))
    body["alerts"][0]["labels"]["instance"] = '<script>alert("x")</script>'
    body["alerts"][0]["annotations"]["summary"] = "<img src=x onerror=alert(1)>"
    body["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    async with bridge_client(tmp_path, channels) as client:
        await client.post("/alertmanager/ops", json=body, headers=BEARER)
        pages = [(await client.get(path, headers=BASIC)).text for path in ("/", "/notifications/1")]
    for html in pages:
        assert "<script>" not in html and "<img" not in html and "javascript:" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


async def test_console_filters_and_pages_the_notifications(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        await dead_notification(client)
        for n in range(2, 29):
            await client.post("/alertmanager/ops", json=webhook(n), headers=BEARER)
        first = (await client.get("/", headers=BASIC)).text
        dead = (await client.get("/?state=dead", headers=BASIC)).text
        ops = (await client.get("/?receiver=ops&before=4", headers=BASIC)).text
        bad = await client.get("/?state=lost", headers=BASIC)
    assert first.count("<tr data-notification=") == 25 and 'href="?before=4"' in first
    assert re.findall(r'data-notification="(\d+)"', dead) == ["1"] and 'value="dead" selected' in dead
    assert re.findall(r'data-notification="(\d+)"', ops) == ["3", "2"] and 'href="?receiver=ops">' in ops
    assert bad.status_code == 400 and "state must be one of" in bad.text


async def test_console_retry_button_sends_the_dead_delivery_again(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        await dead_notification(client)
        page = await client.get("/?state=dead", headers=BASIC)
        form = {"csrf": form_token(page.text), "delivery": "1", "next": "/?state=dead"}
        answer = await client.post("/notifications/1/retry", data=form, headers=BASIC)
        assert answer.status_code == 303 and answer.headers["location"] == "/?state=dead&done=retried&count=1"
        await eventually(lambda: _is(client, ["sent"]), what="the retried delivery to go out")
        shown = await client.get(answer.headers["location"], headers=BASIC)
    assert "Dead deliveries back to pending: 1." in shown.text
    assert len(channels["default"][0].sent) == 1


async def test_console_retry_all_dead_and_send_test(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        await dead_notification(client)
        token = form_token((await client.get("/", headers=BASIC)).text)
        answer = await client.post("/channels/default/discord/0/retry-dead", data={"csrf": token}, headers=BASIC)
        assert answer.status_code == 303 and answer.headers["location"] == "/?done=retried&count=1"
        await eventually(lambda: _is(client, ["sent"]), what="the channel's dead delivery to go out")
        test = await client.post("/receivers/ops/send-test", data={"csrf": token, "next": "//evil"}, headers=BASIC)
        assert test.status_code == 303 and test.headers["location"] == "/?done=send_test&count=1"
        await eventually(lambda: channels["ops"][0].sent, what="the test notification")
    assert channels["ops"][0].sent[0].alerts[0].name == "AllimSendTest"


async def test_console_refuses_forms_without_a_valid_token(tmp_path, channels):
    async with bridge_client(tmp_path, channels) as client:
        await dead_notification(client)
        good = form_token((await client.get("/", headers=BASIC)).text)
        issued, mac = good.split(".")
        for form, reason in [
            ({}, "missing or wrong"),
            ({"csrf": ""}, "missing or wrong"),
            ({"csrf": f"{issued}.{'0' * 64}"}, "missing or wrong"),
            ({"csrf": f"{int(issued) + 1}.{mac}"}, "missing or wrong"),
            ({"csrf": f"{int(issued) - 13 * 3600}.{mac}"}, "missing or wrong"),
        ]:
            refused = await client.post("/notifications/1/retry", data=form, headers={**BASIC, **FORM})
            assert refused.status_code == 403 and reason in refused.text, form
        cross = {**BASIC, "Origin": "https://evil.example"}
        refused = await client.post("/notifications/1/retry", data={"csrf": good}, headers=cross)
        assert refused.status_code == 403 and "another site" in refused.text
        json_post = await client.post("/notifications/1/retry", json={"csrf": good}, headers=BASIC)
        assert json_post.status_code == 415
        assert await states(client) == ["dead"]  # nothing refused was retried


def test_console_form_tokens_expire_and_hold_across_replicas():
    clock = Clock(1_800_000_000.0)
    tokens = FormTokens.for_token(Secret(TOKEN), clock=clock)
    issued = tokens.issue()
    tokens.check(issued)
    other_replica = FormTokens.for_token(Secret(TOKEN), clock=clock)
    other_replica.check(issued)  # same token, same key: a form from one replica posts to another
    clock.advance(MAX_AGE + 1)
    with pytest.raises(Rejected, match="expired"):
        tokens.check(issued)
    with pytest.raises(Rejected, match="missing or wrong"):
        FormTokens.for_token(Secret("another token"), clock=clock).check(issued)


async def test_console_is_read_only_without_a_token(tmp_path, channels):
    async with bridge_client(tmp_path, channels, token=None) as client:
        await client.post("/alertmanager/default", json=webhook(1))
        await eventually(lambda: _is(client, ["dead"], headers={}), what="dead")
        page = await client.get("/")
        assert page.status_code == 200 and "Read-only: set BRIDGE_AUTH_TOKEN" in page.text
        assert '<form class="inline"' not in page.text and 'name="csrf"' not in page.text
        refused = await client.post("/notifications/1/retry", data={"csrf": "1.x"}, headers=FORM)
        assert refused.status_code == 403 and "--web.console-actions" in refused.text
    async with bridge_client(tmp_path / "on", channels, token=None, console_actions=True) as client:
        page = await client.get("/")
        assert "Actions are on without BRIDGE_AUTH_TOKEN" in page.text
        token = form_token(page.text)
        sent = await client.post("/receivers/default/send-test", data={"csrf": token})
        assert sent.status_code == 303


async def test_console_speaks_korean(tmp_path, channels):
    async with bridge_client(tmp_path, channels, language="ko") as client:
        await dead_notification(client)
        page = (await client.get("/", headers=BASIC)).text
    assert '<html lang="ko">' in page
    for text in ("브리지 콘솔", "리시버와 채널", "재시도", "최종 실패 모두 재시도", "테스트 발송", "가동 시간"):
        assert text in page, text


async def test_console_start_says_whether_actions_are_open(tmp_path, channels, caplog):
    caplog.set_level("INFO", logger="bridge")
    async with bridge_client(tmp_path, channels, token=None, console_actions=True):
        pass
    assert "console actions are on without BRIDGE_AUTH_TOKEN" in caplog.text
    caplog.clear()
    async with bridge_client(tmp_path / "ro", channels, token=None):
        pass
    assert "the console is read-only" in caplog.text and "console actions are on" not in caplog.text


def test_console_actions_flag_and_config_key():
    assert parse_args(["--web.console-actions"]).console_actions is True
    assert parse_args([]).console_actions is False
    assert config_from_mapping({"console_actions": True}, {}).console_actions is True
    assert config_from_mapping({}, {}).console_actions is False
    korean = config_from_mapping({"timezone": "Asia/Seoul"}, {"ALLIM_LANGUAGE": "ko"})
    assert (korean.formatting.language, korean.formatting.timezone) == ("ko", "Asia/Seoul")
