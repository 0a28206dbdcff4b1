"""Sentry: error, issue and slow-transaction counts per project, plus issue webhooks.

config.py (the `sentry:` section), api.py (REST calls, pagination, rate-limit headers), metrics.py (payloads to
sentry_* families), webhook.py (signature, legacy token, issue actions), source.py (SentrySource).
"""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.sentry.config import SentryConfig, load_sentry_config
from exporter.sources.sentry.source import SentrySource
from exporter.sources.sentry.webhook import SentryWebhook

KIND = SourceKind("sentry", load_sentry_config, SentrySource, webhook=SentryWebhook)

__all__ = ["KIND", "SentryConfig", "SentrySource", "SentryWebhook", "load_sentry_config"]
