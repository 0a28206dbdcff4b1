"""The shared request envelope and token reader, on tiny inline apps."""

from __future__ import annotations

import base64
import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from allim.requests import Rejected, envelope, read_json, read_json_object, request_token, token_from_authorization

log = logging.getLogger("tests.allim")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer s3cret", "s3cret"),
        ("bearer   s3cret  ", "s3cret"),
        (basic("anyone", "s3cret"), "s3cret"),
        (basic("s3cret", ""), None),
        ("Basic not-base64!", None),
        ("Bearer ", None),
        ("Token s3cret", None),
        ("", None),
        (None, None),
    ],
)
def test_requests_token_from_authorization(header: str | None, token: str | None) -> None:
    assert token_from_authorization(header) == token


def token_app(query: str | None) -> TestClient:
    async def show(request: Request) -> Response:
        return PlainTextResponse(repr(request_token(request, query=query)))

    return TestClient(Starlette(routes=[Route("/", show)]))


def test_requests_request_token_reads_the_query_only_when_asked() -> None:
    with token_app("token") as client:
        assert client.get("/?token=q").text == "'q'"
        assert client.get("/?token=q", headers={"Authorization": "Bearer h"}).text == "'h'"
        assert client.get("/?token=").text == "None"
    with token_app(None) as client:
        assert client.get("/?token=q").text == "None"
        assert client.get("/", headers={"Authorization": basic("u", "p")}).text == "'p'"


def enveloped(handler, **kwargs: object) -> tuple[TestClient, list[tuple[str, int]]]:  # type: ignore[no-untyped-def]
    counted: list[tuple[str, int]] = []

    def count(request: Request, status: int) -> None:
        counted.append((request.url.path, status))

    endpoint = envelope(handler, log=log, count=count, **kwargs)  # type: ignore[arg-type]
    app = Starlette(routes=[Route("/{name}", endpoint, methods=["GET", "POST"])])
    return TestClient(app), counted


async def echo(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "denied":
        raise Rejected(401, "missing or wrong token")
    if name == "bug":
        raise RuntimeError("secret detail")
    if name == "object":
        return JSONResponse(await read_json_object(request))
    return JSONResponse({"body": await read_json(request, allow_missing_type=True)})


def test_requests_envelope_answers_rejections_in_one_line_and_counts_every_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, counted = enveloped(echo, challenge='Bearer realm="test"', fields={"source": "t"})
    with client, caplog.at_level(logging.INFO):
        denied = client.get("/denied")
        assert (denied.status_code, denied.text) == (401, "missing or wrong token\n")
        assert denied.headers["www-authenticate"] == 'Bearer realm="test"'
        bug = client.get("/bug")
        assert (bug.status_code, bug.text) == (500, "internal error\n")
        assert client.post("/any", content=b"[1]").json() == {"body": [1]}  # no content type: allowed here
        wrong_type = client.post("/object", content=b"{}", headers={"Content-Type": "text/plain"})
        assert wrong_type.status_code == 415
        assert client.post("/object", json=[1]).status_code == 400
        too_big = client.post(
            "/object", content=b"{" + b" " * (1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
    assert counted == [
        ("/denied", 401),
        ("/bug", 500),
        ("/any", 200),
        ("/object", 415),
        ("/object", 400),
        ("/object", 413),
    ]
    rejected = [r for r in caplog.records if r.getMessage() == "request rejected"]
    assert rejected and all(getattr(r, "source", None) == "t" for r in rejected)
    assert "secret detail" not in client.get("/bug").text


def test_requests_envelope_without_challenge_sends_no_www_authenticate() -> None:
    client, _ = enveloped(echo)
    with client:
        assert "www-authenticate" not in client.get("/denied").headers
