"""`POST /webhooks/hetrixtools`: a contact list's webhook flips `hetrixtools_monitor_up` before the next poll.

HetrixTools signs nothing, so the URL carries a secret (`?token=`, or a bearer token) compared in constant time
with HETRIXTOOLS_WEBHOOK_TOKEN. The payload is flat (apis.md §2.4):

    {"monitor_id": "...", "monitor_name": "...", "monitor_target": "...", "monitor_type": "service443",
     "monitor_status": "offline", "timestamp": 1499666192, "monitor_errors": {"New York": "timeout"}}
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from allim.requests import Rejected, read_json_object, request_token
from exporter.sources.hetrixtools import HetrixToolsSource, as_float
from exporter.webhooks import webhook_endpoint

if TYPE_CHECKING:
    from exporter.app import ExporterState

PATH = "/webhooks/hetrixtools"
# How long a request waits for its change to be rendered before answering anyway (HetrixTools expects speed).
PUBLISH_WAIT = 0.3

log = logging.getLogger("exporter.sources.hetrixtools")


@dataclass(frozen=True)
class MonitorEvent:
    """One state change a webhook reports."""

    monitor_id: str
    up: bool
    timestamp: float | None
    labels: list[str]  # monitor_id, monitor_name, target, monitor_type, as the poll would label them


def event_from_webhook(data: Mapping[str, Any]) -> MonitorEvent:
    """The event in a webhook body; a 400 Rejected naming the first missing or bad field."""
    monitor_id = data.get("monitor_id")
    if not isinstance(monitor_id, str | int) or str(monitor_id).strip() == "":
        raise Rejected(400, "missing field monitor_id")
    status = data.get("monitor_status")
    if status is None:
        raise Rejected(400, "missing field monitor_status")
    if status not in ("online", "offline"):
        raise Rejected(400, f"monitor_status must be online or offline, got {str(status)[:40]!r}")
    # The webhook says "service443"/"smtp25" where the API says "service"/"smtp": label like the API.
    monitor_type = re.sub(r"\d+$", "", str(data.get("monitor_type") or ""))
    labels = [str(monitor_id), str(data.get("monitor_name") or ""), str(data.get("monitor_target") or ""), monitor_type]
    return MonitorEvent(str(monitor_id), status == "online", as_float(data.get("timestamp")), labels)


class Republisher:
    """Renders the source's current families into the snapshot, coalescing a burst of webhooks into few renders.

    A caller's change is already applied to the source; `request()` returns once a render that started after
    it has been published. A burst (one webhook per monitor in an outage) costs two renders, not one each.
    """

    def __init__(self, publish: Callable[[], Awaitable[None]]) -> None:
        self._publish = publish
        self._waiting: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None

    async def request(self, timeout: float = PUBLISH_WAIT) -> bool:
        """True when the change is published, False when it is still rendering after `timeout`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="hetrixtools-webhook-publish")
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._publish()
            except Exception as exc:
                log.exception("publishing webhook changes failed")
                for future in batch:
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # retrieved here, so an abandoned future never warns
                continue
            for future in batch:
                if not future.done():
                    future.set_result(None)


def hetrixtools_routes(state: ExporterState) -> list[BaseRoute]:
    """The webhook route; it answers 404 with a reason while the hetrixtools source is not enabled."""
    source = state.sources.get("hetrixtools")
    if not isinstance(source, HetrixToolsSource):

        async def disabled(request: Request) -> Response:
            raise Rejected(404, "the hetrixtools source is not enabled")

        return [Route(PATH, webhook_endpoint("hetrixtools", state.webhook_requests, disabled), methods=["POST"])]
    if source.config.webhook_token is None:
        log.info("webhook refuses every request until HETRIXTOOLS_WEBHOOK_TOKEN is set", extra={"path": PATH})
    enabled = source

    async def publish() -> None:
        # Built right before publishing: a later publish supersedes an earlier one, so it must be the newest state.
        await state.snapshot.publish(enabled.name, enabled.build_families())

    republisher = Republisher(publish)

    async def receive(request: Request) -> Response:
        token = enabled.config.webhook_token
        if token is None or not token.matches(request_token(request, query="token")):
            raise Rejected(401, "missing or wrong token")
        event = event_from_webhook(await read_json_object(request))
        timestamp = event.timestamp if event.timestamp is not None else enabled.clock()
        if not enabled.apply_webhook(event.monitor_id, event.up, timestamp, event.labels):
            return PlainTextResponse("ignored: older than the last webhook for this monitor, or too many monitors\n")
        log.info(
            "monitor state from webhook",
            extra={"source": enabled.name, "monitor_id": event.monitor_id, "up": int(event.up)},
        )
        published = await republisher.request()
        return PlainTextResponse("ok\n" if published else "accepted\n", status_code=200 if published else 202)

    return [Route(PATH, webhook_endpoint(enabled.name, state.webhook_requests, receive), methods=["POST"])]
