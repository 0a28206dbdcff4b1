"""Turning a receiver's config into channel instances, through the registry (bridge/channels/registry.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from bridge.channels import Channel, ChannelType
from bridge.channels.log import LogChannel
from bridge.channels.registry import CHANNELS
from bridge.config import ReceiverConfig, TemplateErrorCounter


def build_channels(
    receiver: ReceiverConfig,
    client: httpx.AsyncClient,
    registry: Mapping[str, ChannelType[Any]] = CHANNELS,
    on_template_error: TemplateErrorCounter | None = None,
) -> list[Channel]:
    """Every channel of one receiver, in config order; the log channel when none is configured.

    The dispatcher keys deliveries by `<receiver>/<channel name>/<index among that name>`, so the order of
    one channel's configs is part of the outbox's identity: it is the config order (see bridge/load.py).
    `on_template_error` counts a receiver template's failures (allim_bridge_template_errors_total)."""
    formatting = receiver.formatting
    if on_template_error is not None:
        formatting = replace(formatting, on_template_error=on_template_error)
    channels = [registry[config.channel].factory(config, formatting, client) for config in receiver.channels]
    return channels or [LogChannel(formatting)]
