"""A Discord webhook endpoint for tests: execute (`POST /api/webhooks/{id}/{token}`) and the webhook message
endpoints (`GET`, `PATCH`, `DELETE .../messages/{message_id}`), enforcing the documented limits and rules.

Any payload Discord would reject gets a Discord-style 400, so a test that passes here would not be rejected
there. An unknown webhook id gets 404, a wrong token 401. `?wait=true` returns the message object (`id`,
`channel_id`, `webhook_id`, `content`, `embeds`, ...). Each webhook posts into its own channel; `make_forum()`
makes it a forum channel, where a post needs `thread_name` (it creates a thread, whose id is the first message's
id and the `channel_id` of every message in it) or `?thread_id=` (220001 otherwise; both at once: 220002), and
`thread_name` on any other channel is refused (220003). A thread or message that does not exist is 404 Unknown
Channel (10003) or Unknown Message (10008); a message in a thread is found only with that `?thread_id=`.

Switches script the failures, on every endpoint: the next N requests answer 429 (with `retry_after` and
rate-limit headers) or 500, `at_request` answers a given request number (1-based) with 429 or 500, an optional
per-request delay, and an optional bucket that answers 429 when a client sends faster than `bucket` requests per
`bucket_window` seconds. `hold()` keeps every request waiting until `release()`, which answers the held ones 503
without recording them: messages Discord never accepted, as for a sender killed mid-request.

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
from datetime import UTC, datetime
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
THREAD_NAME = 100
FIRST_ID = 1_300_000_000_000_000_000  # snowflakes handed out by the fake count up from here
EDITABLE = ("content", "embeds", "allowed_mentions", "flags", "components", "attachments")


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


def thread_name_errors(name: object) -> list[str]:
    if not isinstance(name, str) or not 1 <= len(name) <= THREAD_NAME:
        return [f"thread_name: Must be between 1 and {THREAD_NAME} in length."]
    return []


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
    messages: list[dict[str, Any]] = field(default_factory=list)  # accepted execute bodies, in order
    rejected: list[dict[str, Any]] = field(default_factory=list)  # bodies answered 400
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id -> message object, as it is now
    edits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # accepted PATCH (message id, body)
    threads: dict[str, str] = field(default_factory=dict)  # thread id -> the channel it is in
    thread_names: dict[str, str] = field(default_factory=dict)
    forums: set[str] = field(default_factory=set)  # channel ids of forum channels
    requests: int = 0
    rate_limit_next: int = 0
    fail_next: int = 0
    at_request: dict[int, int] = field(default_factory=dict)  # request number -> 429 | 500
    delay: float = 0.0
    bucket: int = 0  # 0 = no bucket
    bucket_window: float = 1.0
    waiting: int = 0  # requests that arrived while held
    _next_id: int = FIRST_ID
    _hits: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: threading.Event = field(default_factory=lambda: _set(threading.Event()))

    def url(self, webhook_id: str = "1234") -> str:
        return f"{self.base}/api/webhooks/{webhook_id}/{self.webhooks.get(webhook_id, 'unknown')}"

    def channel_of(self, webhook_id: str = "1234") -> str:
        """The id of the channel a webhook posts into (stable per webhook id)."""
        return f"{900_000_000_000_000_000 + sum(ord(c) * 31**i for i, c in enumerate(webhook_id)) % 10**12}"

    def make_forum(self, webhook_id: str = "1234") -> None:
        """The webhook's channel becomes a forum channel."""
        self.forums.add(self.channel_of(webhook_id))

    def add_thread(self, webhook_id: str = "1234", name: str = "a thread") -> str:
        """A thread in the webhook's channel (as a person would start one); its id."""
        thread_id = self._snowflake()
        self.threads[thread_id], self.thread_names[thread_id] = self.channel_of(webhook_id), name
        return thread_id

    def delete_message(self, message_id: str) -> None:
        del self.stored[message_id]

    def delete_thread(self, thread_id: str) -> None:
        """The thread (a forum post) and every message in it are gone."""
        del self.threads[thread_id]
        self.stored = {k: m for k, m in self.stored.items() if m["channel_id"] != thread_id}

    def in_channel(self, channel_id: str) -> list[dict[str, Any]]:
        """The messages that exist now in a channel or thread, oldest first."""
        return [m for m in self.stored.values() if m["channel_id"] == channel_id]

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
        return Starlette(
            routes=[
                Route("/api/webhooks/{id}/{token}", self.execute, methods=["POST"]),
                Route(
                    "/api/webhooks/{id}/{token}/messages/{message_id}",
                    self.message_endpoint,
                    methods=["GET", "PATCH", "DELETE"],
                ),
            ]
        )

    async def _admit(self, request: Request) -> Response | None:
        """Holding, delays, scripted failures and the webhook's credentials, for every endpoint."""
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
            return error(404, "Unknown Webhook", 10015)
        if token != request.path_params["token"]:
            return error(401, "Invalid Webhook Token", 50027)
        return None

    async def execute(self, request: Request) -> Response:
        refused = await self._admit(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "Cannot send an empty message", 50006)
        errors = payload_errors(body)
        if errors:
            self.rejected.append(body)
            return error(400, "Invalid Form Body", 50035, errors)
        webhook_id = request.path_params["id"]
        channel = self.channel_of(webhook_id)
        thread_id, thread_name = request.query_params.get("thread_id"), body.get("thread_name")
        place = self._place(channel, thread_id, thread_name)
        if isinstance(place, Response):
            self.rejected.append(body)
            return place
        message_id = self._snowflake()
        if thread_name is not None:  # a new forum post: the thread's id is its first message's
            self.threads[message_id], self.thread_names[message_id] = channel, thread_name
            place = message_id
        self.messages.append(body)
        self.stored[message_id] = {
            "id": message_id,
            "type": 0,
            "channel_id": place,
            "webhook_id": webhook_id,
            "author": {"id": webhook_id, "username": body.get("username", "webhook"), "bot": True},
            "content": body.get("content", ""),
            "embeds": body.get("embeds", []),
            "allowed_mentions": body.get("allowed_mentions"),
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": body.get("flags", 0),
        }
        if request.query_params.get("wait") != "true":
            return Response(status_code=204, headers=self._headers())
        return JSONResponse(self.stored[message_id], headers=self._headers())

    def _place(self, channel: str, thread_id: str | None, thread_name: object) -> str | Response:
        """Where an execute posts (the channel or a thread), or Discord's refusal."""
        if thread_id and thread_name is not None:
            return error(400, "Webhooks posted to forum channels cannot have both a thread_name and thread_id", 220002)
        if thread_name is not None:
            if channel not in self.forums:
                return error(400, "Webhooks can only create threads in forum channels", 220003)
            if thread_name_errors(thread_name):
                return error(400, "Invalid Form Body", 50035, thread_name_errors(thread_name))
            return channel
        if thread_id:
            return thread_id if self.threads.get(thread_id) == channel else error(404, "Unknown Channel", 10003)
        if channel in self.forums:
            return error(400, "Webhooks posted to forum channels must have a thread_name or thread_id", 220001)
        return channel

    async def message_endpoint(self, request: Request) -> Response:
        """GET, PATCH and DELETE of a message this webhook posted, in its channel or in `?thread_id=`."""
        refused = await self._admit(request)
        if refused is not None:
            return refused
        webhook_id, message_id = request.path_params["id"], request.path_params["message_id"]
        channel = self.channel_of(webhook_id)
        thread_id = request.query_params.get("thread_id")
        if thread_id and self.threads.get(thread_id) != channel:
            return error(404, "Unknown Channel", 10003)
        message = self.stored.get(message_id)
        if message is None or message["channel_id"] != (thread_id or channel) or message["webhook_id"] != webhook_id:
            return error(404, "Unknown Message", 10008)
        if request.method == "GET":
            return JSONResponse(message, headers=self._headers())
        if request.method == "DELETE":
            del self.stored[message_id]
            return Response(status_code=204, headers=self._headers())
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "Invalid Form Body", 50035)
        edited = dict(message)
        for key in EDITABLE:
            if key in body:
                edited[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        errors = payload_errors({"content": edited["content"], "embeds": edited["embeds"]})
        if errors:
            self.rejected.append(body)
            return error(400, "Invalid Form Body", 50035, errors)
        edited["edited_timestamp"] = _now()
        self.stored[message_id] = edited
        self.edits.append((message_id, body))
        return JSONResponse(edited, headers=self._headers())

    def _snowflake(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)

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


def error(status: int, message: str, code: int, errors: list[str] | None = None) -> JSONResponse:
    """Discord's error body: `{"message", "code"}` (and, for a form error, what was wrong)."""
    return JSONResponse({"message": message, "code": code, **({"errors": errors} if errors else {})}, status)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


@contextlib.contextmanager
def running(fake: FakeDiscord, host: str = "127.0.0.1") -> Iterator[FakeDiscord]:
    """The fake served on a free port of `host` (`fake.base` set); held requests are released on the way out."""
    with ThreadedServer(fake.app, host) as server:
        fake.base = server.url
        try:
            yield fake
        finally:
            fake.release()
