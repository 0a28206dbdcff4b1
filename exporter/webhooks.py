"""What every incoming webhook shares: body limits, JSON checks, token comparison, request counting.

A source module that takes webhooks exposes `routes(state)` in its SourceKind and builds its endpoints
with `webhook_endpoint`, raising `WebhookRejected` for bad input: the sender gets a 4xx with a one-line
reason, the request is counted in `allim_webhook_requests_total{source,code}`, and nothing else happens.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Counter
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from allim.secret import Secret

MAX_BODY_BYTES = 1024 * 1024

log = logging.getLogger("exporter.webhooks")


class WebhookRejected(Exception):
    """Bad input: answered with `status` and the one-line `reason`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise WebhookRejected(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise WebhookRejected(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise WebhookRejected(400, "client disconnected before the body was complete") from None
    return b"".join(chunks)


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise WebhookRejected(415, f"content type must be application/json, got {content_type or 'none'!r}")


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookRejected(400, f"body is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(data, dict):
        raise WebhookRejected(400, f"body must be a JSON object, got {type(data).__name__}")
    return data


def secrets_equal(given: str | bytes | None, expected: Secret | None) -> bool:
    """Constant-time comparison; False when either side is missing."""
    if not given or expected is None or not expected:
        return False
    given_bytes = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(given_bytes, expected.reveal().encode())


def request_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer <t>` or, failing that, the `?token=` query parameter."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token") or None


Handler = Callable[[Request], Awaitable[Response]]


def webhook_endpoint(source: str, counter: Counter, handler: Handler) -> Handler:
    """Wrap a handler: WebhookRejected becomes its 4xx, every answer is counted, a bug answers 500."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except WebhookRejected as exc:
            log.info("webhook rejected", extra={"source": source, "code": exc.status, "reason": exc.reason})
            response = PlainTextResponse(exc.reason + "\n", status_code=exc.status)
        except Exception:
            log.exception("webhook handler failed", extra={"source": source})
            response = PlainTextResponse("internal error\n", status_code=500)
        counter.labels(source, str(response.status_code)).inc()
        return response

    return endpoint
