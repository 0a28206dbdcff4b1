"""Untrusted requests, for the exporter's webhooks and the bridge alike: the token, the body, the answer.

- `request_token` is the one way to read a caller's token (bearer, basic-auth password, or a query parameter).
- `read_body` / `read_json` / `read_json_object` read a bounded body of the right content type.
- `envelope` wraps an endpoint: a `Rejected` raised anywhere inside becomes its one-line 4xx/5xx answer,
  a bug becomes a logged 500, and every answer's status is counted.

Bodies are limited both by their declared length and while streaming, so a client that lies about (or omits)
Content-Length cannot make the service buffer more than the limit.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from allim.rejected import Rejected, parse_json, parse_json_object, refusal

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a 300-alert Alertmanager group is about 300 KiB
TOO_LARGE = "body larger than {limit} bytes"

Endpoint = Callable[[Request], Awaitable[Response]]
# Called with every answered request and its status code, e.g. to count it in a labelled Counter.
CountAnswer = Callable[[Request, int], None]

__all__ = [
    "MAX_BODY_BYTES",
    "CountAnswer",
    "Endpoint",
    "Rejected",
    "envelope",
    "parse_json",
    "parse_json_object",
    "read_body",
    "read_json",
    "read_json_object",
    "request_token",
    "require_json",
    "token_from_authorization",
]


# -- the token ---------------------------------------------------------------------------------
def token_from_authorization(header: str | None) -> str | None:
    """The token in an `Authorization` header: `Bearer <token>`, or basic auth with the token as password."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        credentials = decoded.partition(":")[2]
    elif scheme.lower() != "bearer":
        return None
    return credentials or None


def request_token(request: Request, *, query: str | None = None) -> str | None:
    """The caller's token from the Authorization header, else (only if `query` names one) that query parameter.

    Compare it with `Secret.matches`, which is constant-time and never true for a missing token.
    """
    token = token_from_authorization(request.headers.get("authorization"))
    if token is None and query is not None:
        token = request.query_params.get(query) or None
    return token


# -- the body ----------------------------------------------------------------------------------
async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `limit` (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refusal(413, "too_large", TOO_LARGE, limit=limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise refusal(413, "too_large", TOO_LARGE, limit=limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Rejected(400, "client disconnected before the body was complete", key="disconnected") from None
    return b"".join(chunks)


def require_json(request: Request, *, allow_missing: bool = False) -> None:
    """415 unless the content type is JSON (`application/json` or `…+json`); `allow_missing` lets a
    request without any content type through (old scripts posting with bare curl)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if allow_missing and not media:
        return
    if media != "application/json" and not media.endswith("+json"):
        raise Rejected(415, f"content type must be application/json, got {media or 'none'!r}")


async def read_json(request: Request, *, allow_missing_type: bool = False, limit: int = MAX_BODY_BYTES) -> Any:
    """The decoded JSON body: content type checked (415), size bounded (413), syntax checked (400)."""
    require_json(request, allow_missing=allow_missing_type)
    return parse_json(await read_body(request, limit))


async def read_json_object(
    request: Request, *, allow_missing_type: bool = False, limit: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """As `read_json`, and the body must be a JSON object."""
    require_json(request, allow_missing=allow_missing_type)
    return parse_json_object(await read_body(request, limit))


# -- the answer --------------------------------------------------------------------------------
def envelope(
    handler: Endpoint,
    *,
    log: logging.Logger,
    count: CountAnswer | None = None,
    challenge: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Endpoint:
    """`handler` with the answers every write endpoint shares.

    A `Rejected` becomes a plain-text answer with its status and one-line reason (a 401 also carries
    `WWW-Authenticate: <challenge>` when one is given); any other exception is logged with its traceback and
    answers 500 `internal error`, so a bug never leaks details; `count(request, status)` sees every answer.
    `fields` are added to the log lines (e.g. `{"source": "sentry"}`).
    """
    extra = dict(fields or {})

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except Rejected as exc:
            log.info(
                "request rejected",
                extra={"path": request.url.path, "code": exc.status, "reason": exc.reason, **extra},
            )
            response = PlainTextResponse(exc.reason + "\n", status_code=exc.status)
            if exc.status == 401 and challenge:
                response.headers["WWW-Authenticate"] = challenge
        except Exception:
            log.exception("request handler failed", extra={"path": request.url.path, **extra})
            response = PlainTextResponse("internal error\n", status_code=500)
        if count is not None:
            count(request, response.status_code)
        return response

    return endpoint
