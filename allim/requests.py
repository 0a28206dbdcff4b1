"""Reading untrusted request bodies, for the exporter's webhooks and the bridge alike.

Bad input raises `Rejected` with an HTTP status and a one-line reason; the caller answers with it and
carries on. Bodies are limited both by their declared length and while streaming, so a client that lies
about (or omits) Content-Length cannot make the service buffer more than the limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: a 300-alert Alertmanager group is about 300 KiB


class Rejected(Exception):
    """A request refused with `status` and the one-line `reason` sent back to the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `limit` (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Rejected(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Rejected(400, "client disconnected before the body was complete") from None
    return b"".join(chunks)


def require_json(request: Request, *, allow_missing: bool = False) -> None:
    """415 unless the content type is JSON (`application/json` or `…+json`); `allow_missing` lets a
    request without any content type through (old scripts posting with bare curl)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if allow_missing and not media:
        return
    if media != "application/json" and not media.endswith("+json"):
        raise Rejected(415, f"content type must be application/json, got {media or 'none'!r}")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise Rejected(400, "body is not valid JSON: not UTF-8") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    data = parse_json(body)
    if not isinstance(data, dict):
        raise Rejected(400, f"body must be a JSON object, got {type(data).__name__}")
    return data
