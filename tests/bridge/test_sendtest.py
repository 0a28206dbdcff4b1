"""`allim-bridge send-test` against a real bridge: a sample each receiver shows in its own language."""

from __future__ import annotations

import pytest

from bridge.__main__ import main
from bridge.app import create_app
from bridge.load import config_from_mapping
from tests.bridge.english import english_sentences, has_hangul
from tests.fakes.discord import FakeDiscord
from tests.support import ThreadedServer, wait_until

TOKEN = "send-test-token"


def fields(embed: dict[str, object]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("language", "status", "summary"),
    [
        ("ko", {"firing": "발생 중", "resolved": "해소됨"}, "allim-bridge send-test의 테스트 알림 메시지"),
        ("en", {"firing": "firing", "resolved": "resolved"}, "Test notification from allim-bridge send-test"),
    ],
)
def test_sendtest_sample_in_the_receivers_language(
    tmp_path, discord: FakeDiscord, capsys, language: str, status: dict[str, str], summary: str
) -> None:
    config = config_from_mapping(
        {
            "data_dir": str(tmp_path),
            "auth_token": TOKEN,
            "language": language,
            "timezone": "Asia/Seoul",
            "receivers": {"team": {"discord": [{"webhook_url": discord.url()}]}},
        },
        {},
    )
    with ThreadedServer(create_app(config)) as server:
        argv = ["send-test", "--receiver", "team", "--interval", "0", "--url", server.url, "--token", TOKEN]
        assert main(argv, {}) == 0
        wait_until(lambda: len(discord.messages) == 2, timeout=10, what="the firing and the resolved sample")
    assert "firing: HTTP 200" in capsys.readouterr().out
    firing, resolved = (message["embeds"][0] for message in discord.messages)
    assert firing["description"].startswith(summary)
    status_name = "상태" if language == "ko" else "Status"
    assert fields(firing)[status_name] == status["firing"] and fields(resolved)[status_name] == status["resolved"]
    assert ("지속 시간" if language == "ko" else "Fired for") in fields(resolved)
    if language == "ko":
        for embed in (firing, resolved):
            assert has_hangul(embed["description"])
            assert english_sentences(embed["description"], ["allim-bridge", "send-test"]) == []
