"""The console in Korean (`language: ko`): its words, and every reason it gives for a refusal, are Korean.

The JSON API and the logs keep the English reason; the console looks a refusal's `key` up in its Korean reasons
(bridge/console/words.py). Every key raised anywhere in the packages has a Korean sentence with the same
placeholders as the English one, so a new refusal cannot show up in English on a Korean page.
"""

from __future__ import annotations

import ast
import base64
import html
import importlib
import re
import string

import pytest

from allim.rejected import Rejected, refusal
from bridge.console.words import REASONS_KO, reason
from tests.bridge.console_client import BEARER, TOKEN, bridge_client, failing_then_ok, form_token
from tests.bridge.helpers import FakeChannel, webhook
from tests.support import REPO, eventually

BASIC = {"Authorization": "Basic " + base64.b64encode(f"ops:{TOKEN}".encode()).decode()}
FORM = {"content-type": "application/x-www-form-urlencoded"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture
def channels():
    return {"default": [failing_then_ok()], "ops": [FakeChannel("email", "email:ops@example.com")]}


def _error_reason(page: str) -> str:
    found = re.search(r'<p class="notice warn">(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(found.group(1))


async def test_console_korean_refusals_are_korean_pages(tmp_path, channels):
    async with bridge_client(tmp_path, channels, language="ko") as client:
        await client.post("/alertmanager/default", json=webhook(1), headers=BEARER)
        token = form_token((await client.get("/", headers=BASIC)).text)
        asked = await client.get("/")
        assert asked.status_code == 401 and asked.headers["www-authenticate"] == 'Basic realm="allim-bridge"'
        assert "콘솔을 쓰려면 브리지의 토큰이 필요합니다" in _error_reason(asked.text)
        assert 'name="csrf" value="' not in asked.text  # no form token for someone without the token
        form = {**BASIC, **FORM}
        cases = [
            ("GET", "/notifications/99", {}, BASIC, 404, "99번 알림 메시지가 없습니다."),
            ("GET", "/?state=lost", {}, BASIC, 400, "state 값은 pending, sent, dead 중 하나여야 합니다."),
            ("POST", "/notifications/1/retry", {"csrf": "1.x"}, form, 403, "폼의 토큰이 없거나 틀립니다"),
            ("POST", "/notifications/1/retry", {"csrf": token, "delivery": "x"}, form, 400, "delivery 값은 0 이상의"),
            (
                "POST",
                "/receivers/nobody/send-test",
                {"csrf": token},
                form,
                404,
                "알 수 없는 리시버: 'nobody'. 설정된 리시버: default, ops",
            ),
            (
                "POST",
                "/channels/pager/retry-dead",
                {"csrf": token},
                form,
                404,
                "알 수 없는 채널: 'pager'. 채널 이름(discord, email), 채널 키 또는 all 중 하나를 쓰세요.",
            ),
            (
                "POST",
                "/notifications/1/retry",
                {"csrf": token},
                {**form, "Origin": "https://x.example"},
                403,
                "다른 사이트의 페이지에서 온 요청이라 거부했습니다.",
            ),
            ("POST", "/notifications/1/retry", None, BASIC, 415, "폼 POST"),
        ]
        for method, path, data, headers, status, korean in cases:
            answer = await client.request(method, path, data=data, headers=headers)
            assert answer.status_code == status, answer.text
            assert korean in _error_reason(answer.text), answer.text
            assert '<html lang="ko">' in answer.text and "오류" in answer.text
        api = await client.get("/api/notifications/99", headers=BEARER)
        assert api.status_code == 404 and api.text == "no notification 99\n"  # scripts keep the English reason


async def test_console_korean_read_only_and_nothing_to_retry(tmp_path, channels):
    async with bridge_client(tmp_path, channels, token=None, language="ko") as client:
        refused = await client.post("/notifications/1/retry", data={"csrf": "1.x"}, headers=FORM)
        assert refused.status_code == 403 and "작업이 꺼져 있습니다" in _error_reason(refused.text)
    channels = {"default": [FakeChannel("discord", "discord:webhooks/1/***")]}
    async with bridge_client(tmp_path / "sent", channels, language="ko") as client:
        await client.post("/alertmanager/default", json=webhook(1), headers=BEARER)
        await eventually(lambda: channels["default"][0].sent, what="the delivery")
        token = form_token((await client.get("/", headers=BASIC)).text)
        nothing = await client.post("/notifications/1/retry", data={"csrf": token}, headers=BASIC)
        assert nothing.status_code == 409
        assert _error_reason(nothing.text) == "1번 알림 메시지에는 재시도할 최종 실패 전송이 없습니다."


async def test_console_korean_words_and_preview_note(tmp_path, channels):
    async with bridge_client(tmp_path, channels, language="ko") as client:
        await client.post("/alertmanager/default", json=webhook(1), headers=BEARER)
        await eventually(lambda: _dead(client), what="the delivery to go dead")
        overview = (await client.get("/", headers=BASIC)).text
        client.app.state.bridge.dispatcher.workers.pop("default/discord/0")  # type: ignore[attr-defined]
        detail = (await client.get("/notifications/1", headers=BASIC)).text
    for words in ("리시버와 채널", "최종 실패 모두 재시도", "알림 메시지", "전송"):
        assert words in overview, words
    assert 'state-dead">최종 실패<' in overview
    assert "<h2>알림 (1)</h2>" in detail and "<h2>전송</h2>" in detail
    assert "미리보기 없음 (이제 설정에 없는 채널)" in detail


async def _dead(client) -> bool:
    listed = (await client.get("/api/notifications", headers=BEARER)).json()["notifications"]
    return bool(listed) and listed[0]["deliveries"][0]["state"] == "dead"


def test_console_reason_falls_back_to_the_english_one() -> None:
    assert reason(Rejected(400, "something new"), "ko") == "something new"
    assert reason(Rejected(400, "x", key="form_utf8"), "en") == "x"
    assert reason(refusal(404, "no_notification", "no notification {notification}", notification=7), "ko") == (
        "7번 알림 메시지가 없습니다."
    )


# -- every refusal the packages raise has Korean words -----------------------------------------
def _raised_reasons() -> dict[str, str]:
    """key → English template (`""` for a fixed reason) of every keyed refusal raised in the packages."""
    found: dict[str, str] = {}
    for package in ("allim", "bridge", "exporter"):
        for path in sorted((REPO / package).rglob("*.py")):
            module = importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
            for call in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)):
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                if name == "refusal" and len(call.args) == 3 and isinstance(call.args[1], ast.Constant):
                    found[call.args[1].value] = _value(module, call.args[2])
                found.update(
                    {k.value.value: "" for k in call.keywords if k.arg == "key" and isinstance(k.value, ast.Constant)}
                )
            for function in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)):
                keyed = zip(reversed(function.args.args), reversed(function.args.defaults), strict=False)
                found.update(
                    {d.value: "" for a, d in keyed if a.arg == "key" and isinstance(d, ast.Constant) and d.value}
                )
    return found


def _value(module: object, node: ast.expr) -> str:
    """A literal, or the module-level constant (`NAME`, `module.NAME`) a refusal names as its template."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Name):
        return str(getattr(module, node.id))
    assert isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name), ast.dump(node)
    return str(getattr(getattr(module, node.value.id), node.attr))


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_console_has_korean_for_every_refusal_key() -> None:
    raised = _raised_reasons()
    assert {"console_token", "no_notification", "unknown_channel", "too_large", "form_token"} <= set(raised)
    assert set(raised) == set(REASONS_KO), "bridge/console/words.py REASONS_KO and the raised keys differ"
    for key, template in raised.items():
        assert _fields(REASONS_KO[key]) == _fields(template), key
        assert HANGUL.search(REASONS_KO[key]), key


async def test_console_korean_unknown_address_answers_in_korean(tmp_path, channels):
    async with bridge_client(tmp_path, channels, language="ko") as client:
        page = await client.get("/notifcations", headers={**BASIC, "Accept": "text/html"})
        assert page.status_code == 404 and page.text == "없는 주소입니다: /notifcations\n"
        script = await client.get("/api/nope", headers=BEARER)
        assert script.status_code == 404 and script.text == "Not found: /api/nope\n"
