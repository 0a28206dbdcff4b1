"""The bridge console in a real browser against a real bridge process and the Discord fake: a notification goes
dead because the webhook is unknown, the page says why, the webhook is fixed, Retry delivers it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bridge.helpers import webhook
from tests.fakes.discord import FakeDiscord, running
from tests.support import Process, free_port, python_module, wait_until

pytestmark = pytest.mark.slow

TOKEN = "browser-s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CREDENTIALS = ("oncall", TOKEN)


class Bridge:
    def __init__(self, url: str, process: Process) -> None:
        self.url = url
        self.process = process

    def deliveries(self) -> list[dict]:
        found = httpx.get(f"{self.url}/api/notifications", headers=BEARER, timeout=5).json()["notifications"]
        return [d for n in found for d in n["deliveries"]]


def start_bridge(tmp_path: Path, discord: FakeDiscord, name: str, config: str = "") -> Bridge:
    port = free_port()
    config_file = tmp_path / f"{name}.yml"
    config_file.write_text(config + "receivers:\n  ops: {channels: [log]}\n")
    env = {
        "BRIDGE_DATA_DIR": str(tmp_path / name),
        "DISCORD_WEBHOOK_URL": discord.url("999"),  # not a webhook the fake knows: 404 Unknown Webhook, dead
        "BRIDGE_AUTH_TOKEN": TOKEN,
        "EMAIL_TO": "",
        "ALLIM_LANGUAGE": "",
    }
    args = python_module("bridge", "--config.file", str(config_file), "--web.listen-address", f"127.0.0.1:{port}")
    process = Process(args, tmp_path / f"{name}.log", env)
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz")
    except BaseException:
        process.stop()
        raise
    return Bridge(f"http://127.0.0.1:{port}", process)


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with running(FakeDiscord()) as fake:
        yield fake


@pytest.fixture
def bridge(tmp_path, discord) -> Iterator[Bridge]:
    started = start_bridge(tmp_path, discord, "bridge")
    try:
        yield started
    finally:
        started.process.stop()


def dead_notification(bridge: Bridge) -> None:
    response = httpx.post(f"{bridge.url}/alertmanager/default", json=webhook(1), headers=BEARER, timeout=5)
    assert response.status_code == 200, response.text
    wait_until(lambda: [d["state"] for d in bridge.deliveries()] == ["dead"], timeout=10, what="a dead delivery")


def test_browser_dead_delivery_retried_after_discord_recovers(bridge, discord, tabs):
    dead_notification(bridge)
    tab = tabs(CREDENTIALS)
    assert tab.visit(bridge.url, "overview-dead").status == 200
    dead = tab.page.locator('li.delivery[data-state="dead"]')
    assert dead.count() == 1
    assert "discord answered 404: Unknown Webhook (code 10015)" in dead.inner_text()
    assert "discord:webhooks/999/***" in tab.page.inner_text("table.receivers")
    tab.assert_links_answer_200()

    discord.webhooks["999"] = "unknown"  # the webhook exists now (the URL's token part is "unknown")
    dead.get_by_role("button", name="Retry").click()
    tab.page.wait_for_load_state()
    assert "Dead deliveries back to pending: 1." in tab.page.inner_text("main")
    wait_until(lambda: discord.containing("Probe1"), timeout=10, what="Discord to receive the retried message")

    def shows_sent() -> bool:
        tab.page.reload()
        return tab.page.locator('li.delivery[data-state="sent"]').count() == 1

    wait_until(shows_sent, timeout=10, what="the page to show the delivery sent")
    tab.shot("overview-sent")
    assert len(discord.messages) == 1
    assert tab.errors == []


def test_browser_detail_page_shows_the_text_sent(bridge, discord, tabs):
    dead_notification(bridge)
    tab = tabs(CREDENTIALS)
    tab.visit(bridge.url, "overview")
    tab.page.locator('tr[data-notification="1"] td a').first.click()
    tab.page.wait_for_load_state()
    tab.shot("notification-1")
    assert tab.page.url == f"{bridge.url}/notifications/1"
    preview = tab.page.inner_text("div.preview pre")
    assert '"title": "[WARNING] Probe1 — 127.0.0.1:51739"' in preview and '"allowed_mentions"' in preview
    assert "alertname=Probe1" in tab.page.inner_text("table.alerts")
    assert tab.page.get_by_role("link", name="Source").get_attribute("href").startswith("http://127.0.0.1:42257/")
    tab.assert_links_answer_200()
    assert tab.errors == []


def test_browser_asks_for_the_token(bridge, tabs):
    """Without credentials the browser is challenged for basic auth (headless Chromium, having no one to ask, ends
    the navigation with ERR_INVALID_AUTH_CREDENTIALS); wrong ones end at the 401; right ones open the console."""
    anonymous = tabs()
    answers: list[tuple[int, str | None]] = []
    anonymous.page.on("response", lambda r: answers.append((r.status, r.headers.get("www-authenticate"))))
    with pytest.raises(Exception, match="ERR_INVALID_AUTH_CREDENTIALS"):
        anonymous.page.goto(bridge.url)
    assert answers == [(401, 'Basic realm="allim-bridge"')]
    wrong = tabs(("oncall", "guess")).visit(bridge.url, "wrong-credentials")
    assert wrong.status == 401 and wrong.headers["www-authenticate"] == 'Basic realm="allim-bridge"'
    tab = tabs(CREDENTIALS)
    assert tab.visit(bridge.url, "with-credentials").status == 200
    assert "allim" in tab.page.title() and tab.errors == []


def test_browser_console_in_korean(tmp_path, discord, tabs):
    korean = start_bridge(tmp_path, discord, "korean", "language: ko\n")
    try:
        dead_notification(korean)
        tab = tabs(CREDENTIALS)
        tab.visit(korean.url, "overview-ko")
        assert tab.page.get_attribute("html", "lang") == "ko"
        text = tab.page.inner_text("main")
        for words in ("브리지 콘솔", "리시버와 채널", "최종 실패 모두 재시도", "테스트 발송", "재시도"):
            assert words in text, words
        tab.page.get_by_role("button", name="테스트 발송").first.click()
        tab.page.wait_for_load_state()
        tab.shot("send-test-ko")
        assert "테스트 알림 메시지를 접수했습니다" in tab.page.inner_text("main")
        tab.assert_links_answer_200()
        assert tab.errors == []
    finally:
        korean.process.stop()
