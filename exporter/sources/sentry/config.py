"""The `sentry:` section: token and organisation, API base, windows, slow threshold, project allow-list.

sentry:
  org: acme                                  # or SENTRY_ORG
  token_file: /run/secrets/sentry_token      # or SENTRY_TOKEN
  client_secret_file: /run/secrets/sentry_client_secret   # signed webhooks (SENTRY_CLIENT_SECRET)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common

DEFAULT_API_BASE = "https://sentry.io"
DATASETS = ("auto", "spans", "transactions")


@dataclass(frozen=True, kw_only=True)
class SentryConfig(SourceConfig):
    token: Secret | None
    org: str | None
    api_base: str
    client_secret: Secret | None
    webhook_token: Secret | None
    window: float
    unresolved_period: float
    slow_threshold: float
    dataset: str  # "spans" or "transactions", resolved from "auto" at load time
    projects: tuple[str, ...]
    max_pages: int

    @property
    def slow_query(self) -> str:
        ms = round(self.slow_threshold * 1000)
        if self.dataset == "spans":
            return f"is_transaction:true span.duration:>{ms}"
        return f"transaction.duration:>{ms}"


def period_text(seconds: float) -> str:
    """A Sentry period (`statsPeriod`, `firstSeen:-…`) in the largest whole unit: 3600 -> "1h"."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    raise ValueError("not a whole number of minutes")


def is_saas(api_base: str) -> bool:
    host = (urlsplit(api_base).hostname or "").lower()
    return host == "sentry.io" or host.endswith(".sentry.io")


def _window(settings: Settings, key: str, default: float) -> float:
    seconds = settings.duration(key, default, minimum=60)
    try:
        period_text(seconds)
    except ValueError:
        settings.problem(key, f"must be a whole number of minutes, got {seconds:g}s")
        return default
    return seconds


def load_sentry_config(settings: Settings) -> SentryConfig:
    token = settings.secret("token", env="SENTRY_TOKEN")
    org = settings.string("org", env="SENTRY_ORG") or None
    common = read_common(settings, enabled=bool(token and org), interval=60)
    if common["enabled"]:
        if not token:
            settings.problem("token", "required when sentry is enabled, or token_file (or SENTRY_TOKEN)")
        if not org:
            settings.problem("org", "required when sentry is enabled (or environment variable SENTRY_ORG)")
    api_base = settings.url("api_base", DEFAULT_API_BASE, env="SENTRY_API_BASE", base=True) or DEFAULT_API_BASE
    dataset = settings.string("dataset", "auto", choices=DATASETS) or "auto"
    if dataset == "auto":
        dataset = "spans" if is_saas(api_base) else "transactions"
    return SentryConfig(
        **common,
        token=token,
        org=org,
        api_base=api_base,
        client_secret=settings.secret("client_secret", env="SENTRY_CLIENT_SECRET"),
        webhook_token=settings.secret("webhook_token", env="SENTRY_WEBHOOK_TOKEN"),
        window=_window(settings, "window", 3600),
        unresolved_period=_window(settings, "unresolved_period", 14 * 86400),
        slow_threshold=settings.duration("slow_threshold", 2.0, minimum=0.001),
        dataset=dataset,
        projects=tuple(settings.string_list("projects", [])),
        max_pages=settings.integer("max_pages", 50, minimum=1, maximum=1000),
    )
