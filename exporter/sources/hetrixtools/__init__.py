"""HetrixTools: uptime monitor status, uptime and response times, plus the contact-list webhook.

config.py (the `hetrixtools:` section), api.py (paged listing, `ratelimit-*` headers), metrics.py (monitors to
hetrixtools_* families), webhook.py (URL token, monitor events), source.py (HetrixToolsSource).
"""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.hetrixtools.config import HetrixToolsConfig, load_hetrixtools_config
from exporter.sources.hetrixtools.source import HetrixToolsSource
from exporter.sources.hetrixtools.webhook import HetrixToolsWebhook

KIND = SourceKind("hetrixtools", load_hetrixtools_config, HetrixToolsSource, webhook=HetrixToolsWebhook)

__all__ = ["KIND", "HetrixToolsConfig", "HetrixToolsSource", "HetrixToolsWebhook", "load_hetrixtools_config"]
