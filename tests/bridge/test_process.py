"""The bridge as a real process: SIGKILL with deliveries pending, restart, everything delivered exactly once."""

from __future__ import annotations

import httpx

from tests.bridge.helpers import webhook
from tests.fakes.discord import FakeDiscord, running
from tests.support import Process, free_port, python_module, wait_until


def start_bridge(tmp_path, discord: FakeDiscord, name: str) -> tuple[Process, str]:
    port = free_port()
    env = {
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "DISCORD_WEBHOOK_URL": discord.url("123"),
        "BRIDGE_AUTH_TOKEN": "",
        "EMAIL_TO": "",
    }
    args = python_module("bridge", "--web.listen-address", f"127.0.0.1:{port}")
    proc = Process(args, tmp_path / f"{name}.log", env)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{url}/readyz")
    except BaseException:
        proc.stop()
        raise
    return proc, url


def test_process_sigkill_with_pending_deliveries_loses_nothing_and_duplicates_nothing(tmp_path):
    with running(FakeDiscord(webhooks={"123": "fake-token"})) as discord:
        discord.hold()
        first, url = start_bridge(tmp_path, discord, "first")
        try:
            for n in range(5):
                response = httpx.post(f"{url}/alertmanager/default", json=webhook(n), timeout=5)
                assert response.status_code == 200, response.text
            wait_until(lambda: discord.waiting, timeout=10, what="the first delivery to be in flight")
        finally:
            first.kill()
        discord.release()  # the killed bridge's request is answered 503 and not recorded
        second, url = start_bridge(tmp_path, discord, "second")
        try:
            wait_until(lambda: len(discord.messages) >= 5, timeout=15, what="all five deliveries")
            again = httpx.post(f"{url}/alertmanager/default", json=webhook(3), timeout=5)
            assert again.json()["status"] == "duplicate"  # the dedup window survives the restart
            wait_until(
                lambda: all(
                    d["state"] == "sent"
                    for n in httpx.get(f"{url}/api/notifications", timeout=5).json()["notifications"]
                    for d in n["deliveries"]
                ),
                timeout=10,
            )
            assert [len(discord.containing(f"Probe{n}")) for n in range(5)] == [1] * 5
            assert len(discord.messages) == 5
            assert "fake-token" not in second.log() + first.log_path.read_text()
            assert f"store=sqlite path={tmp_path / 'data' / 'outbox.sqlite3'}" in second.log()
            metrics = httpx.get(f"{url}/metrics", timeout=5).text
            assert 'allim_bridge_notifications_total{channel="discord"} 5.0' in metrics
        finally:
            second.stop()
