"""Reading bridge.yml and the environment into a BridgeConfig, every problem reported in one ConfigError.

    auth_token_file: /run/secrets/bridge_token     # or BRIDGE_AUTH_TOKEN(_FILE)
    data_dir: /var/lib/allim-bridge                # or BRIDGE_DATA_DIR
    language: ko                                   # or ALLIM_LANGUAGE
    timezone: Asia/Seoul                           # or ALLIM_TIMEZONE
    dedup_window: 5m
    console_actions: false                         # or --web.console-actions: retry/send test without a token
    smtp: {server: smtp.example.com, port: 587, username: bridge, password_file: /run/secrets/smtp, from: a@x}
    receivers:
      critical:
        discord:
          - {webhook_url_file: /run/secrets/discord_ops, mention_role_id: "123456789"}
        email:
          - {to: [oncall@example.com]}
        templates:              # optional, Jinja2 (bridge/templates.py): title, description, email_subject
          title: "{{ alert.alertname }} on {{ alert.labels.instance }}"
      default:
        channels: [discord]     # the channels the environment configures (DISCORD_WEBHOOK_URL, EMAIL_TO + SMTP_*)

Without a `default` receiver in the file, one is built from the environment (DISCORD_WEBHOOK_URL, EMAIL_TO with
SMTP_*); a receiver with no channel logs its notifications to stdout. Each channel's own keys and environment
variables are read by its loader (bridge/channels/<name>/config.py), found in the registry by the channel's name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from allim.locale import language_setting, timezone_setting
from allim.secret import Secret
from allim.settings import Settings, read_yaml_file
from bridge import templates
from bridge.channels import ChannelLoader, ChannelType
from bridge.channels.registry import CHANNELS, FALLBACK
from bridge.config import (
    DEFAULT_RECEIVER,
    BridgeConfig,
    ChannelConfig,
    Formatting,
    OutboxConfig,
    ReceiverConfig,
    Templates,
)

log = logging.getLogger("bridge.config")

_RECEIVER_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
Loaders = Mapping[str, ChannelLoader[ChannelConfig]]


def _formatting(settings: Settings, base: Formatting | None, env: bool) -> Formatting:
    base = base or Formatting()
    language = language_setting(settings, base.language, env=env)
    timezone = timezone_setting(settings, base.timezone, env=env)
    dashboard = settings.string("dashboard_url", base.dashboard_url, env="ALLIM_DASHBOARD_URL" if env else None)
    return Formatting(language=language, timezone=timezone, dashboard_url=dashboard or None)


def _templates(settings: Settings) -> Templates:
    """`templates: {title, description, email_subject}` of a receiver; each source must parse (Jinja2)."""
    section = settings.section("templates")
    sources: dict[str, str | None] = {}
    for key in ("title", "description", "email_subject"):
        source = section.string(key, None) or None
        problem = templates.syntax_problem(source) if source else None
        if problem:
            section.problem(key, problem)
        sources[key] = None if problem else source
    section.check_unknown()
    return Templates(**sources)


def _items(settings: Settings, key: str) -> list[Settings]:
    """The mappings of a YAML list, each as Settings with a key path like `receivers.ops.discord[1]`."""
    settings._read.add(key)
    raw = settings.data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    items = []
    for i, item in enumerate(raw):
        path = f"{settings.key_path(key)}[{i}]"
        if not isinstance(item, Mapping):
            settings.problems.append(f"{path}: must be a mapping, got {type(item).__name__}")
            continue
        items.append(Settings(item, {}, path, settings.problems))
    return items


def _one_of(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]


def _named_channels(name: str, settings: Settings, loaders: Loaders, from_env: ReceiverConfig) -> list[ChannelConfig]:
    """The channels a receiver names under `channels:`, taken from the environment's (DISCORD_WEBHOOK_URL, EMAIL_TO).

    A named channel the environment does not configure is left out with a warning, so one shipped config works
    for a team that has only Discord or only email; a receiver left with nothing logs to stdout."""
    named: list[ChannelConfig] = []
    for channel in settings.string_list("channels", []):
        if channel == FALLBACK:
            continue
        if channel not in loaders:
            settings.problem("channels", f"unknown channel {channel!r} ({_one_of([*loaders, FALLBACK])})")
            continue
        configured = [c for c in from_env.channels if c.channel == channel]
        if not configured:
            extra = {"receiver": name, "channel": channel, "set": loaders[channel].env_hint}
            log.warning("channel not configured, left out", extra=extra)
        named += configured
    return named


def _receiver(
    name: str, settings: Settings, loaders: Loaders, formatting: Formatting, from_env: ReceiverConfig
) -> ReceiverConfig:
    if not _RECEIVER_NAME.match(name):
        settings.problems.append(f"receivers.{name}: a receiver name may hold only letters, digits, _ . and -")
    channels = _named_channels(name, settings, loaders, from_env)
    for channel, loader in loaders.items():
        for item in _items(settings, channel):
            config = loader.from_item(item)
            item.check_unknown()
            if config is not None:
                channels.append(config)
    receiver_formatting = replace(_formatting(settings, formatting, env=False), templates=_templates(settings))
    settings.check_unknown()
    order = list(loaders)  # grouped by channel in registry order; each channel's configs in config order
    channels.sort(key=lambda config: order.index(config.channel))
    return ReceiverConfig(name=name, channels=tuple(channels), formatting=receiver_formatting)


def _default_receiver(root: Settings, loaders: Loaders, formatting: Formatting) -> ReceiverConfig:
    """The receiver the environment describes: DISCORD_WEBHOOK_URL and EMAIL_TO (with SMTP_*)."""
    env_settings = Settings({}, root.env, "", root.problems)
    configs = [loader.from_env(env_settings) for loader in loaders.values()]
    return ReceiverConfig(DEFAULT_RECEIVER, channels=tuple(c for c in configs if c), formatting=formatting)


def _outbox(root: Settings) -> OutboxConfig:
    data_dir = root.string("data_dir", "data", env="BRIDGE_DATA_DIR") or "data"
    section = root.section("outbox")
    config = OutboxConfig(
        data_dir=Path(data_dir),
        max_pending=section.integer("max_pending", 10_000, minimum=1),
        delivery_deadline=section.duration("delivery_deadline", 86_400.0, minimum=1),
        retention=section.duration("retention", 7 * 86_400.0, minimum=60),
        backoff_initial=section.duration("backoff_initial", 1.0, minimum=0.001),
        backoff_max=section.duration("backoff_max", 300.0, minimum=0.001),
        busy_timeout=section.duration("busy_timeout", 5.0, minimum=0),
        lease=section.duration("lease", 30.0, minimum=1),
        database_url=_database_url(root),
    )
    section.check_unknown()
    return config


def _database_url(root: Settings) -> Secret | None:
    """`postgresql://user:password@host:port/db?sslmode=…` (libpq's URL form); the value is never shown."""
    url = root.secret("database_url", env="BRIDGE_DATABASE_URL")
    if url is None:
        return None
    try:
        parts = urlsplit(url.reveal())
        valid = parts.scheme in ("postgresql", "postgres") and bool(parts.path.strip("/") or parts.netloc)
    except ValueError:
        valid = False
    if not valid:
        root.problem(
            "database_url", "must be a URL like postgresql://user:password@host:5432/db (the value is not shown)"
        )
        return None
    return url


def config_from_mapping(
    data: Mapping[str, Any], env: Mapping[str, str], channels: Mapping[str, ChannelType[Any]] = CHANNELS
) -> BridgeConfig:
    """Validate a parsed config and the environment; raises ConfigError listing every problem.

    `channels` is the registry the receivers' channels are read through (tests pass one with a fake channel)."""
    root = Settings(data, env)
    formatting = _formatting(root, None, env=True)
    loaders = {name: channel_type.loader(root) for name, channel_type in channels.items()}
    receivers_section = root.section("receivers")
    receivers_section._read.update(receivers_section.data)
    from_env = _default_receiver(root, loaders, formatting)
    receivers = {
        str(name): _receiver(str(name), receivers_section.section(str(name)), loaders, formatting, from_env)
        for name in receivers_section.data
    }
    receivers.setdefault(DEFAULT_RECEIVER, from_env)
    config = BridgeConfig(
        receivers=receivers,
        auth_token=root.secret("auth_token", env="BRIDGE_AUTH_TOKEN"),
        outbox=_outbox(root),
        dedup_window=root.duration("dedup_window", 300.0, minimum=0),
        formatting=formatting,
        console_actions=root.boolean("console_actions", False),
    )
    root.check_unknown()
    root.raise_if_problems()
    return config


def load_config(path: str | None, env: Mapping[str, str]) -> BridgeConfig:
    """Read the file (if any) and the environment into a validated config; raises ConfigError."""
    return config_from_mapping(read_yaml_file(path), env)
