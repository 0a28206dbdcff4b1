"""The bridge as a real process: SIGKILL with deliveries pending, restart, everything delivered exactly once.

Needs bridge.channels.discord.DiscordChannel (the channel branch)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.bridge.helpers import webhook
from tests.support import Process, free_port, python_module, wait_until


class FakeDiscord:
    """A Discord-compatible webhook endpoint that records accepted messages and can be held shut.

    A request that arrives while the gate is shut waits; when the gate opens it is answered 503 and not
    recorded (its sender was killed meanwhile), like a message Discord never accepted."""

    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []
        self.gate = threading.Event()
        self.waiting = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                held = not fake.gate.is_set()
                if held:
                    fake.waiting += 1
                    fake.gate.wait(30)
                if not held:
                    fake.messages.append(body)
                answer = b'{"id": "1"}' if not held else b'{"message": "held"}'
                try:
                    self.send_response(200 if not held else 503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/webhooks/123/fake-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeDiscord:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def count(self, name: str) -> int:
        return sum(json.dumps(m).count(f"{name}") > 0 for m in self.messages)


def start_bridge(tmp_path, discord: FakeDiscord, name: str) -> tuple[Process, str]:
    port = free_port()
    env = {
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "DISCORD_WEBHOOK_URL": discord.url,
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
    with FakeDiscord() as discord:
        first, url = start_bridge(tmp_path, discord, "first")
        try:
            for n in range(5):
                response = httpx.post(f"{url}/alertmanager/default", json=webhook(n), timeout=5)
                assert response.status_code == 200, response.text
            wait_until(lambda: discord.waiting, timeout=10, what="the first delivery to be in flight")
        finally:
            first.kill()
        discord.gate.set()  # the killed bridge's request is answered 503 and not recorded
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
            assert [discord.count(f"Probe{n}") for n in range(5)] == [1] * 5
            assert len(discord.messages) == 5
            assert "fake-token" not in second.log() + first.log_path.read_text()
            assert f"store=sqlite path={tmp_path / 'data' / 'outbox.sqlite3'}" in second.log()
            metrics = httpx.get(f"{url}/metrics", timeout=5).text
            assert 'allim_bridge_notifications_total{channel="discord"} 5.0' in metrics
        finally:
            second.stop()
