"""Discord webhook delivery: one attempt per call, each part (message) of a notification sent in order.

Partial delivery: a notification may need several messages. Each message Discord accepts is recorded at once
(`Attempt.accepted`, with its message id); a retry, a restart or another replica leaves those parts out, so
none is sent twice. A failure raises SendError with `delivered_parts` set to the parts accepted so far.

Per alert group (Attempt.group_state, kept in the outbox), when the config asks for it:
- `on_resolve: edit`: once every part of a notification is out, the group state holds its message ids and the
  alerts they show. A notification with resolved alerts (a resolve, or a partial one) then edits those messages
  into the group's current state (format.current_state), with no pings; a message that is gone (404 Unknown
  Message) and any part beyond the known messages is posted, messages no longer needed are deleted. Any other
  notification (a first one, a reminder, new alerts) is posted and becomes the group's latest.
- `forum: true`: the group's first message is posted with `thread_name`, which makes the forum post; its id
  (the message's `channel_id`) is kept at once, and every later request of the group goes there (`thread_id`).
  A post that is gone (404 Unknown Channel) is made again, with every part of the notification.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from allim.redact import ANY_URL, WEBHOOK_PATH_TOKEN, Redactor, redact_logs
from bridge.channels import Attempt, ChannelType, SendError
from bridge.channels.discord.config import DiscordConfig, DiscordLoader
from bridge.channels.discord.format import current_state, discord_messages, edit_body, quiet, thread_name
from bridge.config import Formatting
from bridge.notification import Notification

log = logging.getLogger(__name__)

MAX_PACE = 5.0  # longest pause (s) between parts when Discord says the bucket is empty
UNKNOWN_CHANNEL = 10003  # Discord's JSON error code: the thread (forum post) does not exist
UNKNOWN_MESSAGE = 10008  # ... the message does not exist (deleted)
# No webhook token and no URL in a message meant for logs, errors or the API.
redact = Redactor(patterns=(WEBHOOK_PATH_TOKEN, ANY_URL))
# httpx logs every request URL at INFO; the webhook token must not reach the logs that way.
_LOG_REDACTOR = Redactor(patterns=(WEBHOOK_PATH_TOKEN,))


def redacted_target(url: str) -> str:
    """`discord:webhooks/<id>/***`: which webhook, without its token."""
    match = re.search(r"/webhooks/([^/?\s]+)", url)
    return f"discord:webhooks/{match.group(1)}/***" if match else "discord:***"


@dataclass
class GroupState:
    """What the channel keeps per alert group (Attempt.group_state), for the next notification of the group.

    `thread_id`: the group's forum post. `messages` (`{id, channel_id}` each) and `shown` (a Notification's JSON):
    with `on_resolve: edit`, the messages of the group's latest notification, once every part of it is out, and
    the alerts they show. `webhook` says whose ids these are: a changed webhook URL starts afresh."""

    webhook: str
    thread_id: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    shown: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any] | None, webhook: str) -> GroupState:
        if not data or data.get("webhook") != webhook:
            return cls(webhook)
        messages = [m for m in data.get("messages") or [] if isinstance(m, dict) and m.get("id")]
        return cls(webhook, data.get("thread_id") or None, messages, data.get("shown") or None)


@dataclass
class Step:
    """One part of a delivery: post `body`, edit `message` into it, or (no body) delete `message`."""

    body: dict[str, Any] | None
    message: dict[str, str] | None = None


class ThreadGone(Exception):
    """The group's forum post no longer exists (Discord's 404 Unknown Channel on its thread id)."""


class MessageGone(Exception):
    """The message to edit or delete no longer exists (Discord's 404 Unknown Message: someone deleted it)."""


class DiscordChannel:
    """Posts a notification's messages to one Discord webhook (`?wait=true`, so errors and message ids come back);
    with `on_resolve: edit` or `forum: true`, a notification may edit the group's messages or go into its post."""

    name = "discord"

    def __init__(self, config: DiscordConfig, client: httpx.AsyncClient, formatting: Formatting) -> None:
        self.config = config
        self.client = client
        self.formatting = formatting
        self.target = redacted_target(config.webhook_url.reveal())
        self._webhook = httpx.URL(config.webhook_url.reveal())
        self._webhook_id = _webhook_id(config.webhook_url.reveal())
        redact_logs(_LOG_REDACTOR, ("httpx", "httpcore"))

    def __repr__(self) -> str:
        return f"DiscordChannel({self.target})"

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        """Sends every part not in `attempt.parts`, in order; at the first failure raises SendError carrying
        `delivered_parts` (the earlier parts plus those accepted in this attempt)."""
        attempt = attempt or Attempt()
        if not self.config.keeps_group_state:
            steps = [Step(body) for body in discord_messages(notification, self.formatting, self.config)]
            await self._run(steps, attempt, GroupState(self._webhook_id), notification)
            return
        state = GroupState.of(await attempt.group_state(), self._webhook_id)
        if self.config.forum and state.thread_id is None:  # made by a part of this delivery, before a crash
            state.thread_id = next((i["channel_id"] for i in attempt.part_info.values() if i.get("channel_id")), None)
        shown, steps = self._plan(notification, state)
        try:
            await self._run(steps, attempt, state, notification)
        except ThreadGone:  # the post was deleted: every message of it is gone, make the post again
            state.thread_id, state.messages = None, []
            await attempt.set_group_state(asdict(state))
            attempt.part_info.clear()  # parts sent into the old post are gone with it: all are sent again
            steps = [Step(step.body) for step in steps if step.body is not None]
            await self._run(steps, attempt, state, notification, again=True)
        if self.config.on_resolve == "edit":
            state.messages = [_ref(attempt.part_info.get(i, {})) for i, step in enumerate(steps) if step.body]
            state.shown = shown.to_json()
        await attempt.set_group_state(asdict(state))

    def _plan(self, notification: Notification, state: GroupState) -> tuple[Notification, list[Step]]:
        """The steps of this notification: posts, or (a resolve, full or partial, of a group whose messages are
        known) edits of those messages into the group's current state, posts for what does not fit in them,
        and deletes of messages no longer needed. Stable across retries: the group state changes at the end."""
        resolves = any(alert.status == "resolved" for alert in notification.alerts)
        if not (self.config.on_resolve == "edit" and resolves and state.shown):
            return notification, [Step(body) for body in discord_messages(notification, self.formatting, self.config)]
        shown = current_state(Notification.from_json(state.shown), notification)
        bodies = [quiet(body) for body in discord_messages(shown, self.formatting, self.config)]
        old = state.messages
        steps = [Step(body, old[i] if i < len(old) else None) for i, body in enumerate(bodies)]
        return shown, steps + [Step(None, message) for message in old[len(bodies) :]]

    async def _run(
        self, steps: list[Step], attempt: Attempt, state: GroupState, notification: Notification, again: bool = False
    ) -> None:
        done = set() if again else set(attempt.parts)
        pending = [i for i in range(len(steps)) if i not in done]
        for n, index in enumerate(pending):
            try:
                response = await self._step(steps[index], state, notification, attempt, again)
            except SendError as err:
                err.delivered_parts = frozenset(done)
                raise
            done.add(index)
            await attempt.accepted(index, **(_message_ref(response) if response else {"deleted": True}))
            if response is not None and n + 1 < len(pending):
                await self._pace(response)

    async def _step(
        self, step: Step, state: GroupState, notification: Notification, attempt: Attempt, again: bool
    ) -> httpx.Response | None:
        """One request: a post, an edit (a post instead when the message is gone) or a delete (None)."""
        try:
            if step.message is not None:
                try:
                    if step.body is None:
                        await self._request("DELETE", self._message_url(step.message, state))
                        return None
                    return await self._request("PATCH", self._message_url(step.message, state), edit_body(step.body))
                except MessageGone:
                    if step.body is None:
                        return None
            return await self._post(step.body or {}, state, notification, attempt)
        except ThreadGone:
            if again:
                raise SendError("discord: the new forum post is gone too", retryable=True, reason="http_404") from None
            raise

    async def _post(
        self, body: dict[str, Any], state: GroupState, notification: Notification, attempt: Attempt
    ) -> httpx.Response:
        thread = self.config.thread_id or state.thread_id
        if self.config.forum and thread is None:  # the group's first message: it makes the post
            body = {**body, "thread_name": thread_name(notification, self.formatting)}
        response = await self._request("POST", self._post_url(thread), body)
        if self.config.forum and thread is None:
            state.thread_id = _message_ref(response).get("channel_id")
            await attempt.set_group_state(asdict(state))  # at once: a later failure must not make a second post
        return response

    def _post_url(self, thread: str | None) -> httpx.URL:
        return self._webhook.copy_merge_params({"wait": "true", **({"thread_id": thread} if thread else {})})

    def _message_url(self, message: dict[str, str], state: GroupState) -> httpx.URL:
        """`.../messages/<id>`, with the thread the message is in (Discord finds it only there)."""
        url = self._webhook.copy_with(path=f"{self._webhook.path.rstrip('/')}/messages/{message['id']}")
        thread = self.config.thread_id or (message.get("channel_id") or state.thread_id if self.config.forum else None)
        return url.copy_merge_params({"thread_id": thread}) if thread else url

    async def _request(self, method: str, url: httpx.URL, body: dict[str, Any] | None = None) -> httpx.Response:
        """Discord's answer to one request; raises MessageGone (404 Unknown Message on an edit or delete),
        ThreadGone (404 Unknown Channel on the forum post's thread id) or SendError for every other failure."""
        try:
            response = await self.client.request(method, url, json=body)
        except httpx.TimeoutException:
            raise SendError("discord request timed out", retryable=True, reason="timeout") from None
        except httpx.HTTPError as exc:
            message = f"discord request failed: {type(exc).__name__}: {redact(str(exc))}"
            raise SendError(message, retryable=True, reason="network") from None
        if response.is_success:
            return response
        code = _error_code(response) if response.status_code == 404 else None
        if code == UNKNOWN_CHANNEL and self.config.forum and "thread_id" in url.params:
            raise ThreadGone()
        if code == UNKNOWN_MESSAGE and method != "POST":
            raise MessageGone()
        raise _status_error(response)

    async def _pace(self, response: httpx.Response) -> None:
        """Wait for the bucket to refill when Discord says it is empty, instead of running into a 429."""
        if response.headers.get("X-RateLimit-Remaining") == "0":
            await asyncio.sleep(min(_float(response.headers.get("X-RateLimit-Reset-After")) or 0.0, MAX_PACE))

    def preview(self, notification: Notification) -> list[tuple[str, str]]:
        """The JSON body of each message, as posted (for the console); the webhook's token is not part of it."""
        messages = discord_messages(notification, self.formatting, self.config)
        return [
            (f"POST webhook {self.target} ({i}/{len(messages)})", json.dumps(body, indent=2, ensure_ascii=False))
            for i, body in enumerate(messages, 1)
        ]


def _webhook_id(url: str) -> str:
    match = re.search(r"/webhooks/([^/?\s]+)", url)
    return match.group(1) if match else ""


def _ref(info: dict[str, Any]) -> dict[str, str]:
    return {key: str(info[key]) for key in ("id", "channel_id") if info.get(key)}


def _error_code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _message_ref(response: httpx.Response) -> dict[str, str]:
    """The id and channel id of the message Discord created (`?wait=true` returns it), when it says."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {key: str(body[key]) for key in ("id", "channel_id") if body.get(key)}


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _status_error(response: httpx.Response) -> SendError:
    """429 and 5xx are worth retrying; any other answer (400 bad payload, 401/403/404 bad webhook) is final."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    detail = redact(
        f"{body.get('message') or response.reason_phrase}" + (f" (code {body['code']})" if body.get("code") else "")
    )
    if body.get("errors"):
        detail += " " + redact(str(body["errors"]))[:300]
    message = f"discord answered {status}: {detail}"
    if status == 429:
        retry_after = _float(body.get("retry_after"))
        if retry_after is None:
            retry_after = _float(response.headers.get("Retry-After"))
        return SendError(message, retryable=True, reason="rate_limited", retry_after=retry_after)
    return SendError(message, retryable=status >= 500, reason=f"http_{status}")


def build(config: DiscordConfig, formatting: Formatting, client: httpx.AsyncClient) -> DiscordChannel:
    return DiscordChannel(config, client, formatting)


DISCORD = ChannelType(loader=DiscordLoader, factory=build)
