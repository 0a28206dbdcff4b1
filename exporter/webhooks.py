"""What every incoming webhook shares: body limits, JSON checks, token reading, request counting.

A source module that takes webhooks exposes `routes(state)` in its SourceKind and builds its endpoints
with `webhook_endpoint`, raising `allim.requests.Rejected` for bad input: the sender gets a 4xx with a one-line
reason, the request is counted in `allim_webhook_requests_total{source,code}`, and nothing else happens.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter
from starlette.requests import Request

from allim.requests import Endpoint, envelope

log = logging.getLogger("exporter.webhooks")


def webhook_endpoint(source: str, counter: Counter, handler: Endpoint) -> Endpoint:
    """Wrap a handler: Rejected becomes its 4xx, every answer is counted, a bug answers 500."""

    def count(request: Request, status: int) -> None:
        counter.labels(source, str(status)).inc()

    return envelope(handler, log=log, count=count, fields={"source": source})
