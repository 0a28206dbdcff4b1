"""Discord webhook delivery."""

from __future__ import annotations

from dataclasses import dataclass

from allim.secret import Secret


@dataclass(frozen=True)
class DiscordConfig:
    webhook_url: Secret  # https://discord.com/api/webhooks/<id>/<token>; the token part is a secret
    mention_role_id: str | None = None  # a role pinged (only) on critical firing notifications
    username: str = "allim"  # Discord rejects usernames containing "discord"
