"""The sources the exporter knows: one package each (see base.py for the layout), one entry in SOURCES."""

from __future__ import annotations

import httpx

from exporter.sources import ga4, hetrixtools, host, sentry
from exporter.sources.base import Source, SourceConfig, SourceKind
from exporter.sources.upstream import SourceError

# One line per source, in the order of build_sources, of the config sections and of /metrics.
KINDS = (
    host.KIND,
    sentry.KIND,
    hetrixtools.KIND,
    ga4.KIND,
)
SOURCES: dict[str, SourceKind] = {kind.name: kind for kind in KINDS}


def build_sources(configs: dict[str, SourceConfig], client: httpx.AsyncClient) -> list[Source]:
    """A source for every enabled config, in SOURCES order."""
    return [SOURCES[name].build(configs[name], client) for name in SOURCES if configs[name].enabled]


__all__ = ["SOURCES", "Source", "SourceConfig", "SourceError", "SourceKind", "build_sources"]
