from __future__ import annotations

from dataclasses import dataclass

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common


@dataclass(frozen=True, kw_only=True)
class ExampleConfig(SourceConfig):
    token: Secret | None
    api_base: str


def load_example_config(settings: Settings) -> ExampleConfig:
    token = settings.secret("token", env="EXAMPLE_TOKEN")
    return ExampleConfig(
        **read_common(settings, enabled=token is not None, interval=60),
        token=token,
        api_base=settings.url("api_base", "https://example.test", env="EXAMPLE_API_BASE", base=True) or "",
    )
