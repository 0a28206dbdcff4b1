"""What every incoming webhook shares: body limits, JSON checks, token comparison, request counting.

A source module that takes webhooks exposes `routes(state)` in its SourceKind and builds its endpoints
with `webhook_endpoint`, raising `allim.requests.Rejected` for bad input: the sender gets a 4xx with a one-line
reason, the request is counted in `allim_webhook_requests_total{source,code}`, and nothing else happens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from allim.requests import Rejected

log = logging.getLogger("exporter.webhooks")


def request_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer <t>` or, failing that, the `?token=` query parameter."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token") or None


Handler = Callable[[Request], Awaitable[Response]]


def webhook_endpoint(source: str, counter: Counter, handler: Handler) -> Handler:
    """Wrap a handler: Rejected becomes its 4xx, every answer is counted, a bug answers 500."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except Rejected as exc:
            log.info("webhook rejected", extra={"source": source, "code": exc.status, "reason": exc.reason})
            response = PlainTextResponse(exc.reason + "\n", status_code=exc.status)
        except Exception:
            log.exception("webhook handler failed", extra={"source": source})
            response = PlainTextResponse("internal error\n", status_code=500)
        counter.labels(source, str(response.status_code)).inc()
        return response

    return endpoint
