"""The Source protocol and the settings every source shares (interval, timeout, max age)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from prometheus_client.metrics_core import Metric
from starlette.routing import BaseRoute

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

    name: str
    config: SourceConfig

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


@dataclass(frozen=True)
class SourceKind:
    """How to read a source's config and build it: one entry per source in SOURCES."""

    name: str
    load_config: Callable[[Settings], SourceConfig]
    build: Callable[[Any, httpx.AsyncClient], Source]
    # Webhook endpoints on the exporter's server, built from the app's ExporterState (see exporter/webhooks.py).
    routes: Callable[[Any], list[BaseRoute]] | None = None
