"""A Discord webhook endpoint for tests: `POST /api/webhooks/{id}/{token}` that enforces the documented limits.

Any payload Discord would reject gets a Discord-style 400, so a test that passes here would not be rejected
there. An unknown webhook id gets 404, a wrong token 401. Switches script the failures: the next N requests
answer 429 (with `retry_after` and rate-limit headers) or 500, `at_request` answers a given request number
(1-based) with 429 or 500, an optional per-request delay, and an optional bucket that answers 429 when a
client posts faster than `bucket` requests per `bucket_window` seconds. `hold()` keeps every request waiting
until `release()`, which answers the held ones 503 without recording them: messages Discord never accepted,
as for a sender killed mid-request.

    with running(FakeDiscord()) as discord:   # on a free 127.0.0.1 port; discord.url() is a webhook URL
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import ThreadedServer

LIMITS = {"title": 256, "description": 4096, "field_name": 256, "field_value": 1024, "footer": 2048, "author": 256}
MAX_EMBEDS, MAX_FIELDS, MAX_TOTAL, MAX_CONTENT = 10, 25, 6000, 2000
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.3, "global": False}
HOLD_TIMEOUT = 30.0  # a held request is answered at the latest after this long


def embed_errors(index: int, embed: dict[str, Any]) -> tuple[list[str], int]:
    """The limit violations of one embed and its counted length."""
    errors = []
    texts = {
        "title": embed.get("title", ""),
        "description": embed.get("description", ""),
        "footer": embed.get("footer", {}).get("text", ""),
        "author": embed.get("author", {}).get("name", ""),
    }
    fields = embed.get("fields", [])
    if len(fields) > MAX_FIELDS:
        errors.append(f"embeds.{index}.fields: Must be {MAX_FIELDS} or fewer in length.")
    for j, f in enumerate(fields):
        texts[f"field_name.{j}"], texts[f"field_value.{j}"] = f.get("name", ""), f.get("value", "")
        if not str(f.get("name", "")).strip() or not str(f.get("value", "")).strip():
            errors.append(f"embeds.{index}.fields.{j}: This field is required")
    for key, text in texts.items():
        limit = LIMITS[key.split(".")[0]]
        if len(str(text)) > limit:
            errors.append(f"embeds.{index}.{key}: Must be {limit} or fewer in length.")
    return errors, sum(len(str(t)) for t in texts.values())


def payload_errors(body: Any) -> list[str]:
    """Everything Discord's API would reject in an execute-webhook body."""
    if not isinstance(body, dict):
        return ["body: must be an object"]
    errors = []
    content, embeds = body.get("content", ""), body.get("embeds", [])
    if not content and not embeds:
        errors.append("Cannot send an empty message")
    if len(content) > MAX_CONTENT:
        errors.append(f"content: Must be {MAX_CONTENT} or fewer in length.")
    if len(embeds) > MAX_EMBEDS:
        errors.append(f"embeds: Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        embed_errs, size = embed_errors(i, embed)
        errors += embed_errs
        total += size
    if total > MAX_TOTAL:
        errors.append(f"embeds: Embed size exceeds maximum size of {MAX_TOTAL}")
    username = body.get("username")
    if username is not None and ("discord" in username.lower() or not 1 <= len(username) <= 80):
        errors.append('username: Username cannot contain "discord"')
    return errors


@dataclass
class FakeDiscord:
    """State and switches of the fake; `app` is the Starlette app to run in tests.support.ThreadedServer."""

    webhooks: dict[str, str] = field(default_factory=lambda: {"1234": "s3cr3t-token"})
    base: str = ""  # the server's URL, set by whoever runs the app
    messages: list[dict[str, Any]] = field(default_factory=list)  # accepted bodies, in order
    rejected: list[dict[str, Any]] = field(default_factory=list)  # bodies answered 400
    requests: int = 0
    rate_limit_next: int = 0
    fail_next: int = 0
    at_request: dict[int, int] = field(default_factory=dict)  # request number -> 429 | 500
    delay: float = 0.0
    bucket: int = 0  # 0 = no bucket
    bucket_window: float = 1.0
    waiting: int = 0  # requests that arrived while held
    _hits: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: threading.Event = field(default_factory=lambda: _set(threading.Event()))

    def url(self, webhook_id: str = "1234") -> str:
        return f"{self.base}/api/webhooks/{webhook_id}/{self.webhooks.get(webhook_id, 'unknown')}"

    def hold(self) -> None:
        """From now on, requests wait (and are counted in `waiting`) until `release()`."""
        self._open.clear()

    def release(self) -> None:
        """Answer the held requests 503, unrecorded, and take new ones normally again."""
        self._open.set()

    def containing(self, text: str) -> list[dict[str, Any]]:
        """The accepted messages whose JSON holds `text` (an alert name, a title)."""
        return [m for m in self.messages if text in json.dumps(m, ensure_ascii=False)]

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/webhooks/{id}/{token}", self.execute, methods=["POST"])])

    async def execute(self, request: Request) -> Response:
        if not self._open.is_set():
            with self._lock:
                self.requests += 1
                self.waiting += 1
            await asyncio.to_thread(self._open.wait, HOLD_TIMEOUT)
            return JSONResponse({"message": "held, never accepted", "code": 0}, status_code=503)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.requests += 1
            scripted = self._scripted()
        if scripted is not None:
            return scripted
        token = self.webhooks.get(request.path_params["id"])
        if token is None:
            return JSONResponse({"message": "Unknown Webhook", "code": 10015}, status_code=404)
        if token != request.path_params["token"]:
            return JSONResponse({"message": "Invalid Webhook Token", "code": 50027}, status_code=401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"message": "Cannot send an empty message", "code": 50006}, status_code=400)
        errors = payload_errors(body)
        if errors:
            self.rejected.append(body)
            return JSONResponse({"message": "Invalid Form Body", "code": 50035, "errors": errors}, status_code=400)
        self.messages.append(body)
        if request.query_params.get("wait") != "true":
            return Response(status_code=204, headers=self._headers())
        return JSONResponse({"id": str(len(self.messages)), **body}, headers=self._headers())

    def _scripted(self) -> Response | None:
        status = self.at_request.pop(self.requests, None)
        if status == 429 or self.rate_limit_next > 0 or self._over_bucket():
            self.rate_limit_next = max(self.rate_limit_next - 1, 0)
            headers = {**self._headers(remaining=0), "Retry-After": "1", "X-RateLimit-Scope": "user"}
            return JSONResponse(RATE_LIMITED, status_code=429, headers=headers)
        if status == 500 or self.fail_next > 0:
            self.fail_next = max(self.fail_next - 1, 0)
            return JSONResponse({"message": "500: Internal Server Error", "code": 0}, status_code=500)
        return None

    def _over_bucket(self) -> bool:
        if not self.bucket:
            return False
        now = time.monotonic()
        self._hits = [t for t in self._hits if now - t < self.bucket_window]
        if len(self._hits) >= self.bucket:
            return True
        self._hits.append(now)
        return False

    def _headers(self, remaining: int | None = None) -> dict[str, str]:
        if remaining is None:
            remaining = max(self.bucket - len(self._hits), 0) if self.bucket else 4
        reset_after = self.bucket_window - (time.monotonic() - self._hits[0]) if self._hits else self.bucket_window
        return {
            "X-RateLimit-Limit": str(self.bucket or 5),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset-After": f"{max(reset_after, 0):.3f}",
            "X-RateLimit-Bucket": "fakebucket",
        }


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


@contextlib.contextmanager
def running(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """The fake served on a free 127.0.0.1 port (`fake.base` set); held requests are released on the way out."""
    with ThreadedServer(fake.app) as server:
        fake.base = server.url
        try:
            yield fake
        finally:
            fake.release()
