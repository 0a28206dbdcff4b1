"""`allim-bridge notifications` and `allim-bridge retry` against a real bridge served by uvicorn (in a thread)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bridge.__main__ import main
from bridge.app import create_app
from tests.bridge.console_client import BEARER, TOKEN, config_for, failing_then_ok, unknown_webhook
from tests.bridge.helpers import FakeChannel, webhook
from tests.support import ThreadedServer, free_port, wait_until


class Served:
    def __init__(self, url: str, channels: dict[str, list[FakeChannel]]) -> None:
        self.url = url
        self.channels = channels

    def states(self) -> list[str]:
        found = httpx.get(f"{self.url}/api/notifications", headers=BEARER, timeout=5).json()["notifications"]
        return [d["state"] for n in found for d in n["deliveries"]]

    def run(self, *argv: str, token: str | None = TOKEN) -> int:
        return main([*argv, "--url", self.url, *(["--token", token] if token else [])], {})


@pytest.fixture
def bridge(tmp_path) -> Iterator[Served]:
    channels = {
        "default": [failing_then_ok()],
        "ops": [FakeChannel("email", "email:ops@example.com", errors=[unknown_webhook()])],
    }
    app = create_app(config_for(tmp_path, channels), channels=channels)
    with ThreadedServer(app) as server:
        served = Served(server.url, channels)
        for n, receiver in ((1, "default"), (2, "ops"), (3, "ops")):
            httpx.post(f"{server.url}/alertmanager/{receiver}", json=webhook(n), headers=BEARER, timeout=5)
        wait_until(lambda: sorted(served.states()) == ["dead", "dead", "sent"], timeout=10, what="two dead, one sent")
        yield served


def test_cli_lists_notifications_with_filters(bridge, capsys):
    assert bridge.run("notifications") == 0
    out = capsys.readouterr().out
    assert out.index("#3 ") < out.index("#2 ") < out.index("#1 ")
    assert "[WARNING] Probe1 — 127.0.0.1:51739" in out
    assert "default/discord/0  dead  1 attempt  discord answered 404: Unknown Webhook (code 10015)" in out

    assert bridge.run("notifications", "--state", "dead", "--receiver", "ops") == 0
    out = capsys.readouterr().out
    assert "#2 " in out and "#3 " not in out and "#1 " not in out

    assert bridge.run("notifications", "--limit", "1", "--json") == 0
    out = capsys.readouterr().out
    assert '"next_before": 3' in out and '"title": "[WARNING] Probe3' in out


def test_cli_retry_one_notification(bridge, capsys):
    assert bridge.run("retry", "1") == 0
    assert capsys.readouterr().out == "notification 1: 1 dead delivery pending again (default/discord/0)\n"
    wait_until(lambda: bridge.channels["default"][0].sent, timeout=10, what="the retried delivery")
    assert bridge.run("retry", "1") == 1
    assert "HTTP 409: notification 1 has no dead delivery to retry" in capsys.readouterr().err
    assert bridge.run("retry", "42") == 1
    assert "HTTP 404: no notification 42" in capsys.readouterr().err


def test_cli_retry_all_dead_of_a_channel_or_all(bridge, capsys):
    assert bridge.run("retry", "--all-dead", "--channel", "email") == 0
    assert capsys.readouterr().out == "email: 1 dead delivery pending again\n"
    assert bridge.run("retry", "--all-dead") == 0
    assert capsys.readouterr().out == "all: 1 dead delivery pending again\n"
    wait_until(lambda: bridge.states() == ["sent"] * 3, timeout=10, what="everything sent")
    assert bridge.run("retry", "--all-dead", "--channel", "pager") == 1
    assert "HTTP 404: unknown channel 'pager'" in capsys.readouterr().err


def test_cli_needs_the_token_and_reads_it_from_a_file(bridge, capsys, tmp_path):
    assert bridge.run("notifications", token=None) == 1
    err = capsys.readouterr().err
    assert "HTTP 401: missing or wrong token" in err
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert main(["retry", "--all-dead", "--url", bridge.url], {"BRIDGE_AUTH_TOKEN_FILE": str(token_file)}) == 0
    assert main(["notifications", "--url", bridge.url], {"BRIDGE_AUTH_TOKEN": TOKEN}) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["retry"],
        ["retry", "1", "--all-dead"],
        ["retry", "1", "--channel", "discord"],
        ["retry", "--all-dead", "--delivery", "3"],
        ["notifications", "--state", "lost"],
    ],
)
def test_cli_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv, {})
    assert exited.value.code == 2


def test_cli_says_when_the_bridge_cannot_be_reached(capsys):
    assert main(["notifications", "--url", f"http://127.0.0.1:{free_port()}"], {}) == 1
    assert "cannot reach http://127.0.0.1:" in capsys.readouterr().err
