"""The sources the exporter knows: one module each, one entry in SOURCES."""

from __future__ import annotations

import httpx

from exporter.sources.base import Source, SourceConfig, SourceKind
from exporter.sources.ga4 import Ga4Source, load_ga4_config
from exporter.sources.hetrixtools import HetrixToolsSource, load_hetrixtools_config
from exporter.sources.hetrixtools_webhook import hetrixtools_routes
from exporter.sources.host import HostSource, load_host_config
from exporter.sources.sentry import SentrySource, load_sentry_config
from exporter.sources.sentry_webhook import sentry_routes
from exporter.sources.upstream import SourceError

SOURCES: dict[str, SourceKind] = {
    "host": SourceKind("host", load_host_config, HostSource),
    "sentry": SourceKind("sentry", load_sentry_config, SentrySource, routes=sentry_routes),
    "hetrixtools": SourceKind("hetrixtools", load_hetrixtools_config, HetrixToolsSource, routes=hetrixtools_routes),
    "ga4": SourceKind("ga4", load_ga4_config, Ga4Source),
}


def build_sources(configs: dict[str, SourceConfig], client: httpx.AsyncClient) -> list[Source]:
    """A source for every enabled config, in SOURCES order."""
    return [SOURCES[name].build(configs[name], client) for name in SOURCES if configs[name].enabled]


__all__ = ["SOURCES", "Source", "SourceConfig", "SourceError", "SourceKind", "build_sources"]
