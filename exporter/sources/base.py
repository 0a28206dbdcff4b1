"""What every source shares: the Source protocol, the common settings, the registry entry, the webhook protocol.

A source lives in its own package, `exporter/sources/<system>/`:

    __init__.py   KIND = SourceKind(...): the one line SOURCES lists
    config.py     <System>Config and load_<system>_config(settings)
    api.py        I/O only: the upstream calls, through exporter/sources/upstream.py
    metrics.py    pure mapping: payloads in, metric families out (tested on recorded payloads)
    webhook.py    payload parsers and the state change a webhook makes (no web framework)
    source.py     <System>Source: collect() = api + metrics, plus the state webhooks change

Sources never import the app or Starlette; the HTTP side of a webhook is `exporter/webhooks.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from prometheus_client.metrics_core import Metric

from allim.settings import Settings


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """Settings common to every source; each source's own config subclasses this."""

    enabled: bool
    interval: float
    timeout: float
    max_age: float


class Source(Protocol):
    """Collects one upstream's metrics; called on its own interval, never on a scrape."""

    @property
    def name(self) -> str:
        """The config section and the `source` label value ("sentry")."""
        ...

    @property
    def config(self) -> SourceConfig:
        """The source's own config (a SourceConfig subclass): read-only here, so each source may narrow it."""
        ...

    async def collect(self) -> list[Metric]:
        """Fresh metric families built from one round of upstream calls; raises on failure."""
        ...


def read_common(settings: Settings, *, enabled: bool, interval: float) -> dict[str, Any]:
    """enabled/interval/timeout/max_age from a source's section, as keyword arguments for its config."""
    enabled = settings.boolean("enabled", enabled)
    interval = settings.duration("interval", interval, minimum=1)
    timeout = settings.duration("timeout", min(interval, 30.0), minimum=0.1)
    max_age = settings.duration("max_age", 3 * interval, minimum=interval)
    if timeout > interval:
        settings.problem("timeout", f"must not exceed the interval ({interval:g}s), got {timeout:g}s")
        timeout = interval
    return {"enabled": enabled, "interval": interval, "timeout": timeout, "max_age": max_age}


# -- webhooks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookRequest:
    """A webhook request as a source sees it: what it needs, without the web framework."""

    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]
    token: str | None  # from `Authorization` (bearer, or basic-auth password), else `?token=`


@dataclass(frozen=True)
class WebhookResult:
    """What a webhook did: `changed` means the source's families must be published before answering;
    otherwise `message` says why nothing changed (it is the answer's text)."""

    changed: bool
    message: str = "ok"


class Webhook(Protocol):
    """A source's webhook: parses payloads and changes the source's state; raises `allim.rejected.Rejected`."""

    # How long the answer waits for the change to be published: None until it is, else at most this many
    # seconds (then it answers 202, the change still being rendered).
    publish_wait: float | None

    def authorize(self, request: WebhookRequest) -> None:
        """Refuse (Rejected 401) a caller that can be refused before its body is read."""
        ...

    def receive(self, request: WebhookRequest, body: bytes) -> WebhookResult:
        """Apply one delivery (the raw body: signatures are computed over it) to the source."""
        ...

    def families(self) -> list[Metric]:
        """The source's families as they are now, built fresh for publishing."""
        ...


@dataclass(frozen=True)
class SourceKind:
    """How to read a source's config and build it: one entry per source in SOURCES."""

    name: str
    load_config: Callable[[Settings], SourceConfig]
    build: Callable[[Any, httpx.AsyncClient], Source]
    # The source's webhook at POST /webhooks/<name>, built from the source (see exporter/webhooks.py).
    webhook: Callable[[Any], Webhook] | None = None

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.name}"
