"""The bridge's configuration as values: receivers and their channels, formatting, auth, the outbox.

The bottom layer of the bridge: it imports only `allim` and the standard library, so every other module may
import it. Each channel's own settings type (DiscordConfig, EmailConfig) follows `ChannelConfig` and lives in its
channel's folder (bridge/channels/<name>/config.py), which imports only this module and `allim`; reading bridge.yml
and the environment into these values is bridge/load.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

from allim.secret import Secret

DEFAULT_RECEIVER = "default"


@dataclass(frozen=True)
class Templates:
    """A receiver's own wording: Jinja2 sources (checked to parse at load, rendered by bridge/templates.py).
    An unset part keeps the built-in text."""

    title: str | None = None  # each alert's title (Discord embed title, the heading of its block in mail)
    description: str | None = None  # each alert's text (embed description, the paragraph under the heading)
    email_subject: str | None = None  # once per mail

    def __bool__(self) -> bool:
        return any((self.title, self.description, self.email_subject))


class TemplateErrorCounter(Protocol):
    def __call__(self, receiver: str, /) -> None: ...


def _uncounted(receiver: str) -> None:
    """The default for Formatting.on_template_error: nothing counts (tests, `send-test` rendering)."""


@dataclass(frozen=True)
class Formatting:
    """How a receiver words and dates its notifications."""

    language: str = "en"  # "en" | "ko"
    timezone: str = "UTC"  # an IANA zone name, e.g. "Asia/Seoul"
    dashboard_url: str | None = None  # a Grafana link added to every notification when set
    templates: Templates = field(default_factory=Templates)
    # Called with the receiver's name each time a template fails and the built-in text is used instead
    # (the app counts it in allim_bridge_template_errors_total; see bridge/receivers.py).
    on_template_error: TemplateErrorCounter = field(default=_uncounted, compare=False, repr=False)


class ChannelConfig(Protocol):
    """One configured destination of a receiver (a Discord webhook, a list of mail recipients).

    Values are validated when they are loaded: formatting and sending trust them."""

    channel: ClassVar[str]  # its name in bridge.channels.registry.CHANNELS ("discord", "email")

    def secrets(self) -> tuple[Secret, ...]:
        """Every credential it holds, so error texts can be scrubbed of them."""
        ...


ChannelConfigT = TypeVar("ChannelConfigT", bound=ChannelConfig)


@dataclass(frozen=True)
class ReceiverConfig:
    """One receiver: what `POST /alertmanager/<name>` delivers to. No channel at all means the log channel."""

    name: str
    # Grouped by channel in registry order; one channel's configs in config order (those named under `channels:`
    # first), which numbers their outbox keys (`<receiver>/<channel>/<index>`).
    channels: tuple[ChannelConfig, ...] = ()
    formatting: Formatting = field(default_factory=Formatting)

    def of(self, config_type: type[ChannelConfigT]) -> tuple[ChannelConfigT, ...]:
        """The channels of one type, in config order: `receiver.of(DiscordConfig)`."""
        return tuple(c for c in self.channels if isinstance(c, config_type))


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
    formatting: Formatting = field(default_factory=Formatting)  # the bridge's own: the console's language and zone
    console_actions: bool = False  # the console may retry and send tests without an auth token

    def secrets(self) -> list[str]:
        """Every credential's value, so error texts can be scrubbed of them before they are stored or logged."""
        values = [self.auth_token, self.outbox.database_url]
        if self.outbox.database_url:
            values.append(Secret(urlsplit(self.outbox.database_url.reveal()).password or ""))
        for receiver in self.receivers.values():
            values += [secret for channel in receiver.channels for secret in channel.secrets()]
        return [s.reveal() for s in values if s]
