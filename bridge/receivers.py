"""Turning a receiver's config into channel instances (imported lazily: each channel lives in its own module)."""

from __future__ import annotations

import httpx

from bridge.channels import Channel
from bridge.config import ReceiverConfig


def build_channels(receiver: ReceiverConfig, client: httpx.AsyncClient) -> list[Channel]:
    """Every channel of one receiver, in config order; the log channel when none is configured."""
    channels: list[Channel] = []
    if receiver.discord:
        from bridge.channels.discord import DiscordChannel

        channels += [DiscordChannel(config, client, receiver.formatting) for config in receiver.discord]
    if receiver.email:
        from bridge.channels.email import EmailChannel

        channels += [EmailChannel(config, receiver.formatting) for config in receiver.email]
    if not channels:
        from bridge.channels.log import LogChannel

        channels.append(LogChannel(receiver.formatting))
    return channels
