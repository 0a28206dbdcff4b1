"""The exporter's HTTP app: landing page, /metrics from the snapshot, health endpoints, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from prometheus_client import CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from allim import __version__
from allim.metrics import new_registry
from allim.web.errors import router_error_handlers
from allim.web.pages import stylesheet_route
from exporter.config import ExporterConfig
from exporter.landing import landing_page
from exporter.scheduler import start_pollers
from exporter.snapshot import HealthCollector, Snapshot
from exporter.sources import SOURCES, Source, build_sources
from exporter.webhooks import webhook_route

# The classic text format: what every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
USER_AGENT = f"allim-exporter/{__version__}"


@dataclass
class ExporterState:
    """What the routes share: the sources, their snapshot and the self-metrics registry."""

    sources: dict[str, Source]
    snapshot: Snapshot
    registry: CollectorRegistry
    webhook_requests: Counter
    pollers: list[asyncio.Task[None]] = field(default_factory=list)
    language: str = "en"  # the landing page's (ALLIM_LANGUAGE)
    timezone: str = "UTC"  # the landing page's times (ALLIM_TIMEZONE)
    started_at: float | None = None


def build_registry(snapshot: Snapshot) -> tuple[CollectorRegistry, Counter]:
    """The exporter's own metrics: source health, build info, process figures, webhook requests."""
    registry = new_registry(HealthCollector(snapshot))
    webhooks = Counter(
        "allim_webhook_requests", "Webhook requests by source and HTTP status", ["source", "code"], registry=registry
    )
    return registry, webhooks


class PartsResponse(Response):
    """A body sent as the parts it is made of, with their total as Content-Length.

    The source chunks are megabytes; joining them with the small self-metrics would copy them on every scrape.
    """

    def __init__(self, parts: list[bytes], headers: dict[str, str]) -> None:
        self.parts = [part for part in parts if part] or [b""]
        length = str(sum(map(len, self.parts)))
        super().__init__(media_type=CONTENT_TYPE, headers={**headers, "Content-Length": length})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            await send({"type": "http.response.body", "body": part, "more_body": index < last})


async def metrics(request: Request) -> Response:
    state: ExporterState = request.app.state.exporter
    self_part = generate_latest(state.registry)
    if "gzip" in request.headers.get("accept-encoding", ""):
        parts = state.snapshot.gzip_parts(self_part)
        return PartsResponse(parts, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return PartsResponse([*state.snapshot.chunks(), self_part], {"Vary": "Accept-Encoding"})


async def landing(request: Request) -> Response:
    state: ExporterState = request.app.state.exporter
    return landing_page(
        request,
        state.snapshot,
        set(state.sources),
        language=state.language,
        zone=state.timezone,
        started_at=state.started_at,
    )


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    state: ExporterState = request.app.state.exporter
    if state.snapshot.ready:
        return PlainTextResponse("ready\n")
    return PlainTextResponse("waiting for the first poll of every source\n", status_code=503)


def create_app(
    config: ExporterConfig,
    *,
    client: httpx.AsyncClient | None = None,
    sources: list[Source] | None = None,
    start_polling: bool = True,
) -> Starlette:
    """The app; its lifespan owns the shared HTTP client and the pollers. `sources` overrides the configured ones."""
    own_client = client is None
    http = client or httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False)
    if sources is None:
        sources = build_sources(config.sources, http)
    snapshot = Snapshot(sources)
    registry, webhook_requests = build_registry(snapshot)
    state = ExporterState(
        {s.name: s for s in sources},
        snapshot,
        registry,
        webhook_requests,
        language=config.language,
        timezone=config.timezone,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.started_at = time.time()
        if start_polling:
            state.pollers = start_pollers(sources, snapshot)
        try:
            yield
        finally:
            for task in state.pollers:
                task.cancel()
            await asyncio.gather(*state.pollers, return_exceptions=True)
            snapshot.close()
            if own_client:
                await http.aclose()

    routes: list[BaseRoute] = [
        Route("/", landing),
        stylesheet_route(),
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    for kind in SOURCES.values():
        if kind.webhook is not None:
            source = state.sources.get(kind.name)
            webhook = kind.webhook(source) if source is not None else None
            routes.append(webhook_route(kind, webhook, snapshot.publish, webhook_requests))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=router_error_handlers(config.language),
    )
    app.state.exporter = state
    return app
