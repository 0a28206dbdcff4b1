"""The `hetrixtools:` section: API key, API base, webhook token, paging and the cap on webhook-only monitors.

hetrixtools:
  api_key_file: /run/secrets/hetrixtools_api_key     # or HETRIXTOOLS_API_KEY
  webhook_token_file: /run/secrets/hetrix_webhook    # or HETRIXTOOLS_WEBHOOK_TOKEN
"""

from __future__ import annotations

from dataclasses import dataclass

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common

DEFAULT_API_BASE = "https://api.hetrixtools.com"
MAX_PER_PAGE = 200


@dataclass(frozen=True, kw_only=True)
class HetrixToolsConfig(SourceConfig):
    api_key: Secret | None
    api_base: str
    webhook_token: Secret | None
    per_page: int
    max_pages: int
    max_unknown_monitors: int


def load_hetrixtools_config(settings: Settings) -> HetrixToolsConfig:
    api_key = settings.secret("api_key", env="HETRIXTOOLS_API_KEY")
    common = read_common(settings, enabled=api_key is not None, interval=60)
    if common["enabled"] and api_key is None:
        settings.problem("api_key", "required when the source is enabled, or api_key_file (or HETRIXTOOLS_API_KEY)")
    api_base = settings.url("api_base", DEFAULT_API_BASE, env="HETRIXTOOLS_API_BASE", base=True) or DEFAULT_API_BASE
    return HetrixToolsConfig(
        **common,
        api_key=api_key,
        api_base=api_base,
        webhook_token=settings.secret("webhook_token", env="HETRIXTOOLS_WEBHOOK_TOKEN"),
        per_page=settings.integer("per_page", MAX_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE),
        max_pages=settings.integer("max_pages", 50, minimum=1),
        max_unknown_monitors=settings.integer("max_unknown_monitors", 100, minimum=0),
    )
