"""Reading a JSON request body defensively: size limit (header and stream), content type, valid JSON."""

from __future__ import annotations

import json

from starlette.requests import Request

MAX_BODY = 1024 * 1024  # 1 MiB: a 300-alert Alertmanager group is about 300 KiB


class Reject(Exception):
    """A request refused with an HTTP status and a one-line reason for the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _check_content_type(value: str) -> None:
    media = value.split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise Reject(415, f"content type must be application/json, got {media!r}")


async def read_json(request: Request, limit: int = MAX_BODY) -> object:
    """The decoded JSON body; Reject with 413, 415 or 400. A missing content type is accepted as JSON."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise Reject(413, f"body larger than {limit} bytes")
    _check_content_type(request.headers.get("content-type", ""))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Reject(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise Reject(400, "body is not valid JSON") from None
