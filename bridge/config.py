"""The bridge's configuration: receivers and their channels, auth, the outbox; from YAML and/or the environment.

    auth_token_file: /run/secrets/bridge_token     # or BRIDGE_AUTH_TOKEN(_FILE)
    data_dir: /var/lib/allim-bridge                # or BRIDGE_DATA_DIR
    language: ko                                   # or ALLIM_LANGUAGE
    timezone: Asia/Seoul                           # or ALLIM_TIMEZONE
    dedup_window: 5m
    smtp: {server: smtp.example.com, port: 587, username: bridge, password_file: /run/secrets/smtp, from: a@x}
    receivers:
      critical:
        discord:
          - {webhook_url_file: /run/secrets/discord_ops, mention_role_id: "123456789"}
        email:
          - {to: [oncall@example.com]}
      default:
        channels: [discord]     # the channels the environment configures (DISCORD_WEBHOOK_URL, EMAIL_TO + SMTP_*)

Without a `default` receiver in the file, one is built from the environment (DISCORD_WEBHOOK_URL, EMAIL_TO with
SMTP_*); a receiver with no channel logs its notifications to stdout. Every problem is reported in one ConfigError.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from allim.secret import Secret
from allim.settings import Settings, read_yaml_file
from bridge.channels.discord import DiscordConfig
from bridge.channels.email import EmailConfig
from bridge.render import Formatting

log = logging.getLogger("bridge.config")

DEFAULT_RECEIVER = "default"
_RECEIVER_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_TLS_PORTS = {"starttls": 587, "implicit": 465, "none": 25}


@dataclass(frozen=True)
class ReceiverConfig:
    """One receiver: what `POST /alertmanager/<name>` delivers to. No channel at all means the log channel."""

    name: str
    discord: tuple[DiscordConfig, ...] = ()
    email: tuple[EmailConfig, ...] = ()
    formatting: Formatting = field(default_factory=Formatting)


@dataclass(frozen=True)
class OutboxConfig:
    data_dir: Path = Path("data")
    max_pending: int = 10_000  # beyond this many undelivered rows the bridge answers 503
    delivery_deadline: float = 86_400.0  # a delivery still failing this long after it was accepted is dead
    retention: float = 7 * 86_400.0  # sent and dead rows are pruned after this
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    busy_timeout: float = 5.0  # how long a write waits for a lock (or a database connection) before a 503
    lease: float = 30.0  # a replica holds a delivery this long; a dead replica's rows are taken over after it
    database_url: Secret | None = None  # postgresql://…: the outbox shared by every replica; None: SQLite in data_dir

    @property
    def path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"


@dataclass(frozen=True)
class BridgeConfig:
    receivers: dict[str, ReceiverConfig]
    auth_token: Secret | None = None
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    dedup_window: float = 300.0

    def secrets(self) -> list[str]:
        """Every credential's value, so error texts can be scrubbed of them before they are stored or logged."""
        values = [self.auth_token, self.outbox.database_url]
        if self.outbox.database_url:
            values.append(Secret(urlsplit(self.outbox.database_url.reveal()).password or ""))
        for receiver in self.receivers.values():
            values += [d.webhook_url for d in receiver.discord] + [e.password for e in receiver.email]
        return [s.reveal() for s in values if s]


def _formatting(settings: Settings, base: Formatting | None, env: bool) -> Formatting:
    base = base or Formatting()
    language = settings.string("language", base.language, env="ALLIM_LANGUAGE" if env else None, choices=("en", "ko"))
    timezone = settings.string("timezone", base.timezone, env="ALLIM_TIMEZONE" if env else None)
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        settings.problem("timezone", f"unknown time zone {timezone!r} (an IANA name such as Asia/Seoul)")
        timezone = "UTC"
    dashboard = settings.string("dashboard_url", base.dashboard_url, env="ALLIM_DASHBOARD_URL" if env else None)
    return Formatting(language=str(language), timezone=str(timezone), dashboard_url=dashboard or None)


def _discord(settings: Settings, env: str | None = None, role_env: str | None = None) -> DiscordConfig | None:
    url = settings.secret("webhook_url", env=env, required=env is None)
    role = settings.string("mention_role_id", None, env=role_env)
    username = settings.string("username", "allim") or "allim"
    if role is not None and not role.isdigit():
        settings.problem("mention_role_id", "must be a Discord role id (digits)")
    if "discord" in username.lower():
        settings.problem("username", 'Discord rejects usernames containing "discord"')
    if url is None:
        return None
    if not re.match(r"^https?://[^/\s]+/\S*$", url.reveal()):
        where = f"environment variable {env}" if env else settings.key_path("webhook_url")
        settings.problems.append(f"{where}: must be an http(s) URL (the value is not shown: it holds a token)")
    return DiscordConfig(webhook_url=url, mention_role_id=role, username=username)


@dataclass(frozen=True)
class _Smtp:
    host: str | None
    port: int
    from_addr: str | None
    tls: str
    username: str | None
    password: Secret | None


def _smtp(settings: Settings) -> _Smtp:
    tls = settings.string("tls", "starttls", env="SMTP_TLS", choices=tuple(_TLS_PORTS)) or "starttls"
    return _Smtp(
        host=settings.string("server", None, env="SMTP_SERVER"),
        port=settings.integer("port", _TLS_PORTS[tls], env="SMTP_PORT", minimum=1, maximum=65535),
        from_addr=settings.string("from", None, env="SMTP_FROM"),
        tls=tls,
        username=settings.string("username", None, env="SMTP_USERNAME") or None,
        password=settings.secret("password", env="SMTP_PASSWORD"),
    )


def _email(settings: Settings, smtp: _Smtp, env: str | None = None) -> EmailConfig | None:
    to = settings.string_list("to", [], env=env)
    from_addr = settings.string("from", smtp.from_addr)
    if not to:
        if env is None:
            settings.problem("to", "required: a list of recipient addresses")
        return None
    where = f"environment variable {env}" if env else settings.key_path("to")
    for address in to:
        if "@" not in address or any(c in address for c in "\r\n<>, "):
            settings.problems.append(f"{where}: {address!r} is not an email address")
    if not smtp.host:
        settings.problems.append(f"{where}: recipients are set but no SMTP server (smtp.server or SMTP_SERVER)")
    if not from_addr:
        settings.problems.append(f"{where}: needs a sender address (smtp.from or SMTP_FROM)")
    return EmailConfig(
        host=smtp.host or "",
        port=smtp.port,
        from_addr=from_addr or "",
        to=tuple(to),
        tls=smtp.tls,
        username=smtp.username,
        password=smtp.password,
    )


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


def _env_channels(name: str, settings: Settings, from_env: ReceiverConfig) -> tuple[list[Any], list[Any]]:
    """The channels a receiver names under `channels:`, taken from the environment's (DISCORD_WEBHOOK_URL, EMAIL_TO).

    A named channel the environment does not configure is left out with a warning, so one shipped config works
    for a team that has only Discord or only email; a receiver left with nothing logs to stdout."""
    discord: list[Any] = []
    email: list[Any] = []
    for channel in settings.string_list("channels", []):
        if channel == "discord":
            discord += from_env.discord
            missing = not from_env.discord and "DISCORD_WEBHOOK_URL"
        elif channel == "email":
            email += from_env.email
            missing = not from_env.email and "EMAIL_TO and SMTP_SERVER"
        elif channel == "log":
            missing = False
        else:
            settings.problem("channels", f"unknown channel {channel!r} (discord, email or log)")
            continue
        if missing:
            log.warning(
                "channel not configured, left out", extra={"receiver": name, "channel": channel, "set": missing}
            )
    return discord, email


def _receiver(
    name: str, settings: Settings, smtp: _Smtp, formatting: Formatting, from_env: ReceiverConfig
) -> ReceiverConfig:
    if not _RECEIVER_NAME.match(name):
        settings.problems.append(f"receivers.{name}: a receiver name may hold only letters, digits, _ . and -")
    discord, email = _env_channels(name, settings, from_env)
    for item in _items(settings, "discord"):
        discord.append(_discord(item))
        item.check_unknown()
    for item in _items(settings, "email"):
        email.append(_email(item, smtp))
        item.check_unknown()
    receiver_formatting = _formatting(settings, formatting, env=False)
    settings.check_unknown()
    return ReceiverConfig(
        name=name,
        discord=tuple(d for d in discord if d),
        email=tuple(e for e in email if e),
        formatting=receiver_formatting,
    )


def _default_receiver(root: Settings, smtp: _Smtp, formatting: Formatting) -> ReceiverConfig:
    """The receiver the environment describes: DISCORD_WEBHOOK_URL and EMAIL_TO (with SMTP_*)."""
    env_settings = Settings({}, root.env, "", root.problems)
    discord = _discord(env_settings, env="DISCORD_WEBHOOK_URL", role_env="DISCORD_MENTION_ROLE_ID")
    email = _email(env_settings, smtp, env="EMAIL_TO")
    return ReceiverConfig(
        DEFAULT_RECEIVER,
        discord=(discord,) if discord else (),
        email=(email,) if email else (),
        formatting=formatting,
    )


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
    parts = urlsplit(url.reveal())
    if parts.scheme not in ("postgresql", "postgres") or not (parts.path.strip("/") or parts.netloc):
        root.problem(
            "database_url", "must be a URL like postgresql://user:password@host:5432/db (the value is not shown)"
        )
        return None
    return url


def config_from_mapping(data: Mapping[str, Any], env: Mapping[str, str]) -> BridgeConfig:
    """Validate a parsed config and the environment; raises ConfigError listing every problem."""
    root = Settings(data, env)
    formatting = _formatting(root, None, env=True)
    smtp_section = root.section("smtp")
    smtp = _smtp(smtp_section)
    smtp_section.check_unknown()
    receivers_section = root.section("receivers")
    receivers_section._read.update(receivers_section.data)
    from_env = _default_receiver(root, smtp, formatting)
    receivers = {
        str(name): _receiver(str(name), receivers_section.section(str(name)), smtp, formatting, from_env)
        for name in receivers_section.data
    }
    receivers.setdefault(DEFAULT_RECEIVER, from_env)
    config = BridgeConfig(
        receivers=receivers,
        auth_token=root.secret("auth_token", env="BRIDGE_AUTH_TOKEN"),
        outbox=_outbox(root),
        dedup_window=root.duration("dedup_window", 300.0, minimum=0),
    )
    root.check_unknown()
    root.raise_if_problems()
    return config


def load_config(path: str | None, env: Mapping[str, str]) -> BridgeConfig:
    """Read the file (if any) and the environment into a validated config; raises ConfigError."""
    return config_from_mapping(read_yaml_file(path), env)
