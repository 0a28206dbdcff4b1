"""Discord webhook settings: the value and how bridge.yml or the environment give it, validated here once.

    receivers:
      critical:
        discord:
          - {webhook_url_file: /run/secrets/discord_ops, mention_role_id: "123456789", username: allim}

The environment's channel (the default receiver's, and `channels: [discord]`): DISCORD_WEBHOOK_URL(_FILE) and
DISCORD_MENTION_ROLE_ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from allim.secret import Secret
from allim.settings import Settings

FALLBACK_USERNAME = "allim"
USERNAME_MAX = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def username_problem(name: str) -> str | None:
    """Why Discord would reject `name` as a webhook username (None when it would not)."""
    lowered = name.lower()
    for word in ("discord", "clyde"):
        if word in lowered:
            return f'Discord rejects usernames containing "{word}"'
    if lowered in ("everyone", "here"):
        return f"Discord rejects the username {name!r}"
    if not name.strip() or _CONTROL.search(name):
        return "must be one line of text"
    if len(name) > USERNAME_MAX:
        return f"must be at most {USERNAME_MAX} characters"
    return None


@dataclass(frozen=True)
class DiscordConfig:
    """One Discord webhook. Holds only values Discord accepts, so formatting uses them as they are:
    a role id that is not digits is an error, a username Discord would reject is replaced by "allim"."""

    channel: ClassVar[str] = "discord"

    webhook_url: Secret  # https://discord.com/api/webhooks/<id>/<token>; the token part is a secret
    mention_role_id: str | None = None  # a role pinged (only) on critical firing notifications
    username: str = FALLBACK_USERNAME

    def __post_init__(self) -> None:
        if self.mention_role_id is not None and not self.mention_role_id.isdigit():
            raise ValueError("mention_role_id must be a Discord role id (digits)")
        if username_problem(self.username):
            object.__setattr__(self, "username", FALLBACK_USERNAME)

    def secrets(self) -> tuple[Secret, ...]:
        return (self.webhook_url,)


class DiscordLoader:
    """Reads Discord webhooks from bridge.yml items and from the environment."""

    env_hint = "DISCORD_WEBHOOK_URL"

    def __init__(self, root: Settings) -> None:
        """Discord has no settings shared by its webhooks (no top-level section)."""

    def from_env(self, env: Settings) -> DiscordConfig | None:
        return _discord(env, url_env="DISCORD_WEBHOOK_URL", role_env="DISCORD_MENTION_ROLE_ID")

    def from_item(self, item: Settings) -> DiscordConfig | None:
        return _discord(item)


def _discord(settings: Settings, url_env: str | None = None, role_env: str | None = None) -> DiscordConfig | None:
    url = settings.secret_url("webhook_url", env=url_env, required=url_env is None)
    role = settings.string("mention_role_id", None, env=role_env)
    username = settings.string("username", FALLBACK_USERNAME) or FALLBACK_USERNAME
    if role is not None and not role.isdigit():
        settings.problem("mention_role_id", "must be a Discord role id (digits)")
        role = None
    problem = username_problem(username)
    if problem:
        settings.problem("username", problem)
    if url is None:
        return None
    return DiscordConfig(webhook_url=url, mention_role_id=role, username=username)
