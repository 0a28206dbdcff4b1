"""CHANNELS: every channel the bridge can deliver to, by the name bridge.yml uses for it.

Adding a channel: its folder `bridge/channels/<name>/` (see bridge/channels/__init__.py) and one line here.
Loading (bridge/load.py) reads `receivers.<receiver>.<name>: [...]` and `channels: [<name>]` through the entry's
loader; bridge/receivers.py builds the channels through its factory.
"""

from __future__ import annotations

from typing import Any

from bridge.channels import ChannelType
from bridge.channels.discord.channel import DISCORD
from bridge.channels.email.channel import EMAIL
from bridge.channels.log import LogChannel

CHANNELS: dict[str, ChannelType[Any]] = {
    "discord": DISCORD,
    "email": EMAIL,
}

# What a receiver without channels delivers to. `channels: [log]` names it explicitly (and adds nothing).
FALLBACK = LogChannel.name
