"""Delivery channels: what every channel provides, and what the registry (bridge/channels/registry.py) holds.

A channel lives in its own folder, `bridge/channels/<name>/`: `config.py` (its settings value and loader; imports
only bridge.config and allim), `format.py` (its payloads, built from bridge.view; no I/O) and `channel.py` (one send
attempt; exports the `ChannelType` that the registry lists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from allim.settings import Settings
from bridge.config import ChannelConfig, Formatting
from bridge.notification import Notification


class SendError(Exception):
    """A failed attempt. `retryable` decides between backoff and dead-letter; `retry_after` (seconds)
    is the receiver's own instruction (Discord's 429 `retry_after`), honoured over the backoff.
    The message must hold no secret (no webhook URL token, no password)."""

    def __init__(self, message: str, *, retryable: bool, reason: str = "error", retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.reason = reason  # value of the `reason` label of allim_bridge_notifications_failed_total
        self.retry_after = retry_after
        # Parts (messages) of a multi-part notification the receiver accepted before this failure (also
        # recorded one by one through `Attempt.accepted`); the dispatcher keeps them with the delivery.
        self.delivered_parts: frozenset[int] = frozenset()


class Attempt:
    """What one delivery attempt knows and keeps beyond itself, for a channel that sends in parts or
    returns to its earlier messages (Discord: edit on resolve, one forum post per incident).

    `parts` are the parts accepted by earlier attempts (leave them out; `part_info` has what was recorded for
    each, such as a message id). `accepted()` records a part the moment the receiver takes it, so a retry,
    a restart or another replica taking the row over never sends it again. The group state is one JSON
    object per channel instance and alert group, kept across notifications. This base keeps everything in
    memory (tests, `send-test`); the dispatcher's subclass stores it in the outbox.
    """

    def __init__(
        self,
        parts: frozenset[int] = frozenset(),
        part_info: dict[int, dict[str, Any]] | None = None,
        group_state: dict[str, Any] | None = None,
    ) -> None:
        self.part_info: dict[int, dict[str, Any]] = dict(part_info or {})
        self.part_info.update({index: self.part_info.get(index, {}) for index in parts})
        self._group_state = group_state

    @property
    def parts(self) -> frozenset[int]:
        return frozenset(self.part_info)

    async def accepted(self, index: int, **info: Any) -> None:
        """Part `index` was accepted by the receiver (with what to remember about it, e.g. `id=`)."""
        self.part_info[index] = dict(info)

    async def group_state(self) -> dict[str, Any] | None:
        return None if self._group_state is None else dict(self._group_state)

    async def set_group_state(self, data: dict[str, Any]) -> None:
        self._group_state = dict(data)


class Channel(Protocol):
    """One configured destination (a Discord webhook, a list of email recipients, the log)."""

    name: str  # "discord", "email", "log": the `channel` label value
    target: str  # a redacted, human-readable destination for /api/notifications ("discord:…/1234", "email:ops@x")

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        """One attempt, leaving out the parts in `attempt.parts` (None: a first attempt, nothing kept); raises
        SendError."""
        ...


ConfigT = TypeVar("ConfigT", bound=ChannelConfig)
ConfigT_co = TypeVar("ConfigT_co", bound=ChannelConfig, covariant=True)


class ChannelLoader(Protocol[ConfigT_co]):
    """Reads one channel's settings; built once per config load with the root settings (for a shared
    top-level section such as `smtp:`). Problems go to the settings' problem list, never raised."""

    env_hint: str  # what the environment sets for this channel; named when `channels:` names it unset

    def from_env(self, env: Settings) -> ConfigT_co | None:
        """The channel the environment describes (the default receiver's), or None when it describes none."""
        ...

    def from_item(self, item: Settings) -> ConfigT_co | None:
        """One entry of `receivers.<name>.<channel>: [...]`; None when it is too broken to use."""
        ...


@dataclass(frozen=True)
class ChannelType(Generic[ConfigT]):
    """A registry entry: how to read the channel's settings, and how to build the channel from them."""

    loader: Callable[[Settings], ChannelLoader[ConfigT]]
    factory: Callable[[ConfigT, Formatting, httpx.AsyncClient], Channel]
