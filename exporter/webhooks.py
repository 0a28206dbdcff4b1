"""The HTTP side of every source's webhook: `POST /webhooks/<source>`.

A source that takes webhooks has a `Webhook` (exporter/sources/base.py) that parses the payload and changes the
source's state. The route here does the rest, the same for every source: the token is read, the webhook may
refuse the caller before the body is read, the body is bounded and must be JSON, the change is published into
the snapshot before the answer, and `allim.requests.envelope` turns any `Rejected` into its one-line 4xx and
counts every answer in `allim_webhook_requests_total{source,code}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from prometheus_client.metrics_core import Metric
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from allim.requests import Endpoint, Rejected, envelope, read_body, request_token, require_json
from exporter.sources.base import SourceKind, Webhook, WebhookRequest

log = logging.getLogger("exporter.webhooks")

Publish = Callable[[str, list[Metric]], Awaitable[None]]  # Snapshot.publish


class Republisher:
    """Renders the source's current families into the snapshot, coalescing a burst of webhooks into few renders.

    A caller's change is already applied to the source; `request()` returns once a render that started after
    it has been published. A burst (one webhook per monitor in an outage) costs two renders, not one each.
    """

    def __init__(self, publish: Callable[[], Awaitable[None]], name: str = "webhook") -> None:
        self._publish = publish
        self._name = name
        self._waiting: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None

    async def request(self, timeout: float | None) -> bool:
        """True when the change is published, False when it is still rendering after `timeout` (None: no limit)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"{self._name}-webhook-publish")
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
                log.exception("publishing webhook changes failed", extra={"source": self._name})
                for future in batch:
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # retrieved here, so an abandoned future never warns
                continue
            for future in batch:
                if not future.done():
                    future.set_result(None)


def counted(source: str, counter: Counter) -> Callable[[Request, int], None]:
    def count(request: Request, status: int) -> None:
        counter.labels(source, str(status)).inc()

    return count


def webhook_endpoint(source: str, counter: Counter, handler: Endpoint) -> Endpoint:
    """`handler` in the shared envelope: Rejected becomes its 4xx, every answer is counted, a bug answers 500."""
    return envelope(handler, log=log, count=counted(source, counter), fields={"source": source})


def webhook_route(kind: SourceKind, webhook: Webhook | None, publish: Publish, counter: Counter) -> Route:
    """The route for one source kind; it answers 404 with a reason while that source is not enabled."""
    name = kind.name
    if webhook is None:

        async def disabled(request: Request) -> Response:
            raise Rejected(404, f"the {name} source is not enabled")

        return Route(kind.webhook_path, webhook_endpoint(name, counter, disabled), methods=["POST"])
    hook = webhook

    async def publish_now() -> None:
        # Built right before publishing: a later publish supersedes an earlier one, so it must be the newest state.
        await publish(name, hook.families())

    republisher = Republisher(publish_now, name)

    async def receive(request: Request) -> Response:
        seen = WebhookRequest(
            headers={key.lower(): value for key, value in request.headers.items()},
            query=dict(request.query_params),
            token=request_token(request, query="token"),
        )
        hook.authorize(seen)
        require_json(request)
        result = hook.receive(seen, await read_body(request))
        if not result.changed:
            return PlainTextResponse(result.message + "\n")
        published = await republisher.request(hook.publish_wait)
        return PlainTextResponse("ok\n" if published else "accepted\n", status_code=200 if published else 202)

    return Route(kind.webhook_path, webhook_endpoint(name, counter, receive), methods=["POST"])
