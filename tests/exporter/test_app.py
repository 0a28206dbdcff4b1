from __future__ import annotations

import gzip

import httpx
from starlette.testclient import TestClient

from exporter.app import create_app
from exporter.config import load_config
from tests.exporter.fakesources import HangingSource, RaisingSource, StaticSource, source_config
from tests.support import wait_until


def client_for(*sources: object) -> TestClient:
    app = create_app(load_config(None, {}), sources=list(sources))  # type: ignore[arg-type]
    return TestClient(app)


def test_app_failing_sources_leave_the_rest_of_the_scrape_intact() -> None:
    good = StaticSource("good", 42.0)
    hung = HangingSource("hung", config=source_config(timeout=0.1))
    broken = RaisingSource("broken")
    with client_for(good, hung, broken) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5, what="readiness")
        body = client.get("/metrics").text
    assert "good_value 42.0" in body
    assert 'allim_source_up{source="good"} 1.0' in body
    assert 'allim_source_up{source="hung"} 0.0' in body
    assert 'allim_source_up{source="broken"} 0.0' in body
    assert 'allim_source_errors_total{reason="timeout",source="hung"} 1.0' in body
    assert 'allim_source_errors_total{reason="other",source="broken"} 1.0' in body


def test_app_readyz_waits_for_first_polls() -> None:
    hung = HangingSource("hung", config=source_config(interval=5, timeout=5))
    with client_for(hung) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert client.get("/healthz").status_code == 200


def test_app_metrics_has_build_info_and_text_format() -> None:
    with client_for(StaticSource("a")) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5)
        response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert 'allim_build_info{python_version="' in response.text
    assert "process_resident_memory_bytes" in response.text


def test_app_metrics_gzip_is_one_stream_httpx_decodes() -> None:
    with client_for(StaticSource("a", 9.0)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5)
        compressed = client.get("/metrics", headers={"Accept-Encoding": "gzip"})
        plain = client.get("/metrics", headers={"Accept-Encoding": "identity"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    # httpx's decoder reads a single gzip member: the self metrics at the end must survive it.
    assert "a_value 9.0" in compressed.text
    assert 'allim_build_info{python_version="' in compressed.text
    assert compressed.text.split("# HELP allim_")[0] == plain.text.split("# HELP allim_")[0]


def test_app_metrics_sends_chunks_and_self_metrics_with_their_total_length() -> None:
    with client_for(StaticSource("a", 1.0), StaticSource("b", 2.0)) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5)
        plain = client.get("/metrics", headers={"Accept-Encoding": "identity"})
        with client.stream("GET", "/metrics", headers={"Accept-Encoding": "gzip"}) as compressed:
            raw = b"".join(compressed.iter_raw())
        head = client.head("/metrics", headers={"Accept-Encoding": "identity"})
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert int(compressed.headers["content-length"]) == len(raw)
    assert gzip.decompress(raw).startswith(b"# HELP a_value")
    assert plain.text.startswith("# HELP a_value Value of a")
    assert "\nb_value 2.0\n# HELP allim_" in plain.text
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0


def test_app_landing_page_links_metrics() -> None:
    with client_for(StaticSource("a")) as client:
        page = client.get("/")
    assert page.status_code == 200
    assert 'href="metrics"' in page.text
    assert "<td>a</td>" in page.text


def test_app_unknown_path_is_404() -> None:
    with client_for(StaticSource("a")) as client:
        assert client.get("/nope").status_code == 404


def test_app_does_not_call_sources_on_scrape() -> None:
    source = StaticSource("a", config=source_config(interval=60, timeout=1))
    with client_for(source) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=5)
        for _ in range(20):
            client.get("/metrics")
    assert source.calls == 1


def test_app_uses_injected_http_client() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    app = create_app(load_config(None, {}), client=client, sources=[StaticSource("a")])  # type: ignore[list-item]
    with TestClient(app) as test_client:
        assert test_client.get("/healthz").status_code == 200


def test_app_unknown_address_answers_in_the_status_pages_language() -> None:
    app = create_app(load_config(None, {"ALLIM_LANGUAGE": "ko"}), sources=[StaticSource("a")])  # type: ignore[list-item]
    with TestClient(app) as client:
        page = client.get("/status", headers={"Accept": "text/html"})
        assert page.status_code == 404 and page.text == "없는 주소입니다: /status\n"
        assert (
            client.post("/metrics", headers={"Accept": "text/html"}).text
            == "/metrics에는 POST 요청을 보낼 수 없습니다\n"
        )
