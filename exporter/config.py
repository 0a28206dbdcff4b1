"""The exporter's configuration: a YAML file (one section per source) merged with environment variables.

    host:
      interval: 15s
      mountpoints_exclude: "^/(dev|proc|run|sys)($|/)"
    sentry:
      org: acme            # or SENTRY_ORG
      token_file: /run/secrets/sentry_token   # or SENTRY_TOKEN
    language: ko           # or ALLIM_LANGUAGE: the status page's (en, ko)
    timezone: Asia/Seoul   # or ALLIM_TIMEZONE: the status page's times

Every problem is reported at once in one `ConfigError`; `__main__` turns it into exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from allim.locale import language_setting, timezone_setting
from allim.settings import Settings, read_yaml_file
from exporter.sources import SOURCES, SourceConfig


@dataclass(frozen=True)
class ExporterConfig:
    sources: dict[str, SourceConfig]
    language: str = "en"  # the status page's, as the bridge's (allim.locale)
    timezone: str = "UTC"

    @property
    def enabled(self) -> list[str]:
        return [name for name, config in self.sources.items() if config.enabled]


def config_from_mapping(data: Mapping[str, object], env: Mapping[str, str]) -> ExporterConfig:
    """Validate a parsed config; raises ConfigError listing every problem."""
    root = Settings(data, env)
    sources: dict[str, SourceConfig] = {}
    for name, kind in SOURCES.items():
        section = root.section(name)
        sources[name] = kind.load_config(section)
        section.check_unknown()
    language = language_setting(root, "en", env=True)
    timezone = timezone_setting(root, "UTC", env=True)
    root.check_unknown()
    root.raise_if_problems()
    return ExporterConfig(sources, language, timezone)


def load_config(path: str | None, env: Mapping[str, str]) -> ExporterConfig:
    """Read the file (if any) and the environment into a validated config; raises ConfigError."""
    return config_from_mapping(read_yaml_file(path), env)
