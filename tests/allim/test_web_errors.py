"""The router's own 404 and 405 answers: in the service's language for a browser, English for a script."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from allim.web.errors import router_error_handlers

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def _ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _missing(request: Request) -> Response:
    raise HTTPException(404, "no notification 7")


def _client(language: str) -> TestClient:
    routes = [Route("/metrics", _ok), Route("/notifications/7", _missing)]
    return TestClient(Starlette(routes=routes, exception_handlers=router_error_handlers(language)))


def test_router_errors_speak_korean_to_a_browser() -> None:
    with _client("ko") as client:
        missing = client.get("/nope", headers=PAGE)
        assert missing.status_code == 404 and missing.text == "없는 주소입니다: /nope\n"
        assert missing.headers["content-type"].startswith("text/plain") and missing.headers["x-content-type-options"]
        refused = client.post("/metrics", headers=PAGE)
        assert refused.status_code == 405 and refused.text == "/metrics에는 POST 요청을 보낼 수 없습니다\n"
        # Starlette keeps a route's methods in a set: their order in Allow varies.
        assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_router_errors_keep_english_for_scripts_and_an_english_service() -> None:
    with _client("ko") as client:
        assert client.get("/nope").text == "Not found: /nope\n"
        assert (
            client.post("/metrics", headers={"Accept": "application/json"}).text
            == "/metrics does not take POST requests\n"
        )
    with _client("en") as client:
        assert client.get("/nope", headers=PAGE).text == "Not found: /nope\n"


def test_router_errors_leave_an_endpoints_own_reason() -> None:
    with _client("ko") as client:
        answer = client.get("/notifications/7", headers=PAGE)
        assert answer.status_code == 404 and answer.text == "no notification 7"
