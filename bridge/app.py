"""The bridge's HTTP app: webhooks in, committed to the outbox before the 2xx, delivered by the workers.

Status codes follow what Alertmanager does with them: 200 once committed (or recognised as a duplicate),
4xx for a request that a retry would not fix (Alertmanager does not retry those), 503 only when the
outbox cannot accept, so Alertmanager retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from allim import __version__
from allim.redact import TOKEN_PATTERNS, Redactor
from allim.requests import Rejected, read_json
from allim.web.errors import router_error_handlers
from allim.web.pages import stylesheet_route
from bridge.access import endpoint
from bridge.alertmanager import notification_from_webhook
from bridge.api import api_routes
from bridge.channels import Channel
from bridge.config import DEFAULT_RECEIVER, BridgeConfig
from bridge.console import console_routes
from bridge.dispatch import Backoff, Dispatcher, Worker
from bridge.legacy import notification_from_legacy
from bridge.metrics import BridgeMetrics
from bridge.notification import Notification, PayloadError
from bridge.outbox import ChannelRef, Outbox
from bridge.receivers import build_channels
from bridge.state import BridgeState, accept, unknown_receiver
from bridge.store import Database, StoreError, database_for

log = logging.getLogger("bridge")
USER_AGENT = f"allim-bridge/{__version__}"
PRUNE_INTERVAL = 3600.0
PENDING_REFRESH = 2.0  # how often a shared store's pending counts are re-read for /metrics and the full check
OPEN_RETRY = 2.0  # seconds between attempts to reach a shared store that is down at start
PING_TIMEOUT = 2.0  # /readyz gives the store this long to answer


def replica_id() -> str:
    """Who holds a lease: this host and process, plus a random part (a restarted pod may reuse both)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


def _pending(outbox: Outbox, channel: str) -> float:
    """Undelivered rows of a channel for /metrics, from memory (never below 0 between two refreshes)."""
    return max(0, outbox.pending[channel])


def _refs(receiver: str, channels: list[Channel]) -> list[ChannelRef]:
    refs, seen = [], dict[str, int]()
    for channel in channels:
        index = seen[channel.name] = seen.get(channel.name, -1) + 1
        refs.append(ChannelRef(f"{receiver}/{channel.name}/{index}", channel.name, channel.target))
    return refs


async def _accept(state: BridgeState, notification: Notification) -> Response:
    return JSONResponse(await accept(state, notification))


async def alertmanager_webhook(request: Request, state: BridgeState) -> Response:
    receiver = request.path_params["receiver"]
    if receiver not in state.receivers:
        raise unknown_receiver(state, receiver)
    # A missing content type is taken as JSON: the old system's scripts post with bare curl.
    body = await read_json(request, allow_missing_type=True)
    try:
        notification = notification_from_webhook(body, receiver)
    except PayloadError as exc:
        raise Rejected(400, str(exc)) from None
    return await _accept(state, notification)


async def legacy_send(request: Request, state: BridgeState) -> Response:
    body = await read_json(request, allow_missing_type=True)
    try:
        notification = notification_from_legacy(body, DEFAULT_RECEIVER)
    except PayloadError as exc:
        raise Rejected(400, str(exc)) from None
    return await _accept(state, notification)


async def metrics(request: Request) -> Response:
    state: BridgeState = request.app.state.bridge
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    """Ready when the outbox is open and answers, and every delivery worker runs (a load balancer then
    sends webhooks elsewhere while this replica's database connection is down)."""
    state: BridgeState = request.app.state.bridge
    if not state.ready or any(t.done() for t in state.dispatcher.tasks):
        return PlainTextResponse("outbox not open or a delivery worker stopped\n", status_code=503)
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            await state.outbox.database.ping()
    except (StoreError, TimeoutError) as exc:
        return PlainTextResponse(f"store unreachable: {exc or 'timed out'}\n", status_code=503)
    return PlainTextResponse("ready\n")


async def _prune_forever(state: BridgeState) -> None:
    while True:
        try:
            deleted = await state.outbox.prune(state.config.outbox.retention, state.config.dedup_window)
            if deleted:
                log.info("pruned old notifications", extra={"deleted": deleted})
        except Exception:
            log.exception("pruning the outbox failed")
        await asyncio.sleep(PRUNE_INTERVAL)


async def _refresh_pending_forever(state: BridgeState) -> None:
    """Other replicas change the shared store: re-read the pending counts /metrics and the full check use."""
    while True:
        await asyncio.sleep(PENDING_REFRESH)
        with contextlib.suppress(StoreError):
            await state.outbox.refresh_pending()


def _start_delivering(state: BridgeState) -> None:
    """Once the outbox is open: workers, housekeeping and (on a shared store) the wake-up listener."""
    state.dispatcher.start()
    state.tasks.append(asyncio.create_task(_prune_forever(state), name="prune outbox"))
    database = state.outbox.database
    if database.shared:
        state.tasks.append(asyncio.create_task(_refresh_pending_forever(state), name="refresh pending"))
        state.tasks.append(asyncio.create_task(database.listen(state.dispatcher.wake), name="listen"))
    state.ready = True
    pending = sum(state.outbox.pending.values())
    log.info("outbox open", extra={"store": database.name, **database.where, "pending": pending})


async def _open_when_reachable(state: BridgeState) -> None:
    """A shared store that is down at start is retried until it answers; until then webhooks get 503."""
    while True:
        try:
            await state.outbox.open()
        except StoreError as exc:
            log.warning("cannot open the outbox yet, retrying", extra={"err": str(exc), "retry_in": OPEN_RETRY})
            await asyncio.sleep(OPEN_RETRY)
            continue
        _start_delivering(state)
        return


def create_app(
    config: BridgeConfig,
    *,
    channels: dict[str, list[Channel]] | None = None,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    database: Database | None = None,
) -> Starlette:
    """The app; its lifespan opens the outbox, starts the delivery workers and closes the HTTP client.

    `channels` (receiver name to channels) replaces the configured ones, for tests; `database` the
    configured store (raises StoreError when the configured one cannot be used)."""
    own_client = client is None
    http = client or httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False, timeout=15.0)
    bridge_metrics = BridgeMetrics()
    if channels is None:
        count = bridge_metrics.template_error_counter(config.receivers)
        channels = {name: build_channels(r, http, on_template_error=count) for name, r in config.receivers.items()}
    box = config.outbox
    if database is None:
        database = database_for(box)
    outbox = Outbox(database, max_pending=box.max_pending, clock=clock)
    backoff = Backoff(box.backoff_initial, box.backoff_max, box.delivery_deadline)
    redact = Redactor(config.secrets(), patterns=TOKEN_PATTERNS)
    owner = replica_id()
    receivers = {name: _refs(name, chans) for name, chans in channels.items()}
    workers = [
        Worker(channel, ref, outbox, bridge_metrics, backoff, owner=owner, lease=box.lease, clock=clock, redact=redact)
        for name, chans in channels.items()
        for channel, ref in zip(chans, receivers[name], strict=True)
    ]
    for channel_name in {ref.name for refs in receivers.values() for ref in refs}:
        bridge_metrics.watch_pending(channel_name, functools.partial(_pending, outbox, channel_name))
    state = BridgeState(config, outbox, bridge_metrics, Dispatcher(workers), receivers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.started_at = clock()
        if config.auth_token is None:
            log.warning("BRIDGE_AUTH_TOKEN is not set: anyone who can reach the bridge can send notifications")
            if config.console_actions:
                log.warning(
                    "console actions are on without BRIDGE_AUTH_TOKEN: anyone who can reach the bridge can retry"
                    " deliveries and send test notifications"
                )
            else:
                log.info("the console is read-only (no BRIDGE_AUTH_TOKEN, no --web.console-actions)")
        if database.shared:
            state.tasks.append(asyncio.create_task(_open_when_reachable(state), name="open outbox"))
        else:
            await outbox.open()
            _start_delivering(state)
        try:
            yield
        finally:
            state.ready = False
            await state.dispatcher.stop()
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            await outbox.close()
            if own_client:
                await http.aclose()

    routes = [
        Route("/alertmanager/{receiver}", endpoint(alertmanager_webhook, counted=True), methods=["POST"]),
        Route("/api/alerts/send", endpoint(legacy_send, counted=True), methods=["POST"]),
        *api_routes(),
        *console_routes(config, clock),
        stylesheet_route(),
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=router_error_handlers(config.formatting.language),
    )
    app.state.bridge = state
    return app
