"""Discord webhook delivery: one attempt per call, each part (message) of a notification posted in order.

Partial delivery: a notification may need several messages. Each message Discord accepts is recorded at once
(`Attempt.accepted`, with its message id); a retry, a restart or another replica leaves those parts out, so
none is posted twice. A failure raises SendError with `delivered_parts` set to the parts accepted so far.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx

from allim.redact import ANY_URL, WEBHOOK_PATH_TOKEN, Redactor, redact_logs
from bridge.alertmanager import Notification
from bridge.channels import Attempt, ChannelType, SendError
from bridge.channels.discord.config import DiscordConfig, DiscordLoader
from bridge.channels.discord.format import discord_messages
from bridge.config import Formatting

log = logging.getLogger(__name__)

MAX_PACE = 5.0  # longest pause (s) between parts when Discord says the bucket is empty
# No webhook token and no URL in a message meant for logs, errors or the API.
redact = Redactor(patterns=(WEBHOOK_PATH_TOKEN, ANY_URL))
# httpx logs every request URL at INFO; the webhook token must not reach the logs that way.
_LOG_REDACTOR = Redactor(patterns=(WEBHOOK_PATH_TOKEN,))


def redacted_target(url: str) -> str:
    """`discord:webhooks/<id>/***`: which webhook, without its token."""
    match = re.search(r"/webhooks/([^/?\s]+)", url)
    return f"discord:webhooks/{match.group(1)}/***" if match else "discord:***"


class DiscordChannel:
    """Posts a notification's messages to one Discord webhook (`?wait=true`, so errors come back)."""

    name = "discord"

    def __init__(self, config: DiscordConfig, client: httpx.AsyncClient, formatting: Formatting) -> None:
        self.config = config
        self.client = client
        self.formatting = formatting
        self.target = redacted_target(config.webhook_url.reveal())
        self._url = httpx.URL(config.webhook_url.reveal()).copy_merge_params({"wait": "true"})
        redact_logs(_LOG_REDACTOR, ("httpx", "httpcore"))

    def __repr__(self) -> str:
        return f"DiscordChannel({self.target})"

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        """Posts every part not in `attempt.parts`, in order; at the first failure raises SendError carrying
        `delivered_parts` (the earlier parts plus those accepted in this attempt)."""
        attempt = attempt or Attempt()
        messages = discord_messages(notification, self.formatting, self.config)
        done = set(attempt.parts)
        pending = [i for i in range(len(messages)) if i not in done]
        for n, index in enumerate(pending):
            try:
                response = await self._post(messages[index])
            except SendError as err:
                err.delivered_parts = frozenset(done)
                raise
            done.add(index)
            await attempt.accepted(index, **_message_ref(response))
            if n + 1 < len(pending):
                await self._pace(response)

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        try:
            response = await self.client.post(self._url, json=body)
        except httpx.TimeoutException:
            raise SendError("discord request timed out", retryable=True, reason="timeout") from None
        except httpx.HTTPError as exc:
            message = f"discord request failed: {type(exc).__name__}: {redact(str(exc))}"
            raise SendError(message, retryable=True, reason="network") from None
        if response.is_success:
            return response
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
