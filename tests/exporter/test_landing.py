"""The exporter's landing page: which source is failing and why, the webhooks, the links; en and ko."""

from __future__ import annotations

import re
import time

from starlette.testclient import TestClient

from exporter.app import create_app
from exporter.config import load_config
from exporter.sources.upstream import RateLimitGate, SourceError
from tests.exporter.fakesources import RaisingSource, StaticSource, source_config
from tests.support import wait_until


class FailingSource(StaticSource):
    """Fails like an upstream answering 503, with a message that must be escaped on the page."""

    async def collect(self):  # type: ignore[override]
        self.calls += 1
        raise SourceError("http_5xx", "stats: HTTP 503 <b>upstream down</b>")


def row(html: str, source: str) -> str:
    match = re.search(rf'<tr data-source="{source}">.*?</tr>', html, re.S)
    assert match, f"no row for {source}"
    return match.group(0)


def landing(*sources: object, language: str = "en", zone: str = "UTC") -> str:
    config = load_config(None, {"ALLIM_LANGUAGE": language, "ALLIM_TIMEZONE": zone})
    app = create_app(config, sources=list(sources))  # type: ignore[arg-type]
    with TestClient(app) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5, what="first polls")
        page = client.get("/")
        assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
        for link in re.findall(r'href="([^"#:]+)"', page.text):  # every link of ours (not the data: icon)
            assert client.get("/" + link.lstrip("./")).status_code == 200, link
        return page.text


def test_landing_tells_which_source_fails_and_why() -> None:
    good = StaticSource("good", config=source_config(interval=30, timeout=1))
    limited = StaticSource("limited", config=source_config(interval=30, timeout=1))
    limited.gate = RateLimitGate()  # type: ignore[attr-defined]
    limited.gate.remaining = 17  # type: ignore[attr-defined]
    bad = FailingSource("bad", config=source_config(interval=30, timeout=1))
    html = landing(good, limited, bad, RaisingSource("buggy"))
    up = row(html, "good")
    assert "<td>good</td>" in up and 'state-up">up<' in up
    assert re.search(r">(just now|\d+ s ago)</span>", up)  # the last success
    assert re.search(r"<td>in (29|30) s", up)  # the next poll
    assert '<td class="num">1</td>' in up  # one series served
    assert '<td class="num">17</td>' in row(html, "limited")
    down = row(html, "bad")
    assert 'state-down">down<' in down
    assert "http_5xx: stats: HTTP 503 &lt;b&gt;upstream down&lt;/b&gt;" in down and "<b>" not in down
    assert "other: RuntimeError: boom" in row(html, "buggy")


def test_landing_lists_the_webhooks_and_whether_each_is_on() -> None:
    html = landing(StaticSource("sentry"))
    assert "POST /webhooks/sentry</td><td>sentry</td>" in html
    hetrix = re.search(r"POST /webhooks/hetrixtools</td>.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert "disabled" in hetrix
    sentry = re.search(r"POST /webhooks/sentry</td>.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert "state-enabled" in sentry
    for link in ('href="metrics"', 'href="healthz"', 'href="readyz"', 'href="static/allim.css"'):
        assert link in html


def test_landing_in_korean() -> None:
    html = landing(StaticSource("a", config=source_config(interval=60, timeout=1)), language="ko")
    assert '<html lang="ko">' in html and "익스포터" in html and "마지막 성공" in html and "웹훅" in html
    assert "다음 폴링" in html and re.search(r"<td>(59|60)초 후", html)  # the glossary's poll, units unspaced
    assert '<td class="num">1분</td>' in row(html, "a")  # the interval in words


def _rate_limited(name: str, for_seconds: float) -> StaticSource:
    source = StaticSource(name, config=source_config(interval=30, timeout=1))
    source.gate = RateLimitGate()  # type: ignore[attr-defined]
    source.gate.not_before = time.time() + for_seconds  # type: ignore[attr-defined]
    return source


def _deferral(language: str) -> str:
    """The rate-limited source's next-poll cell, in Seoul time; asserts it shows nothing else."""
    cell = row(landing(_rate_limited("limited", 600), language=language, zone="Asia/Seoul"), "limited")
    found = re.search(r'<td><span class="deferred">([^<]*)</span></td>', cell)
    assert found, cell
    return found.group(1)


def test_landing_says_until_when_a_rate_limit_holds_calls_in_one_sentence() -> None:
    """One sentence per language, in the configured zone, instead of the next poll (which would not call)."""
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST"
    english = _deferral("en")
    assert re.fullmatch(rf"rate limited: no call to the upstream until {when} \(in (9 min \d+ s|10 min)\)", english), (
        english
    )
    korean = _deferral("ko")
    assert re.fullmatch(rf"요청 한도 초과로 {when}\((9분 \d+초|10분) 후\)까지 업스트림을 호출하지 않음", korean), korean
