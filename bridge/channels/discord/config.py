"""Discord webhook settings: the value and how bridge.yml or the environment give it, validated here once.

    receivers:
      critical:
        discord:
          - {webhook_url_file: /run/secrets/discord_ops, mention_role_id: "123456789", username: allim}
          - {webhook_url_file: /run/secrets/discord_incidents, forum: true, on_resolve: edit}
          - {webhook_url_file: /run/secrets/discord_ops, thread_id: "1122334455667788990"}

`on_resolve: edit` turns a group's latest message(s) into the resolved state in place instead of posting anew;
`thread_id` posts into an existing thread of the webhook's channel; `forum: true` makes one forum post per alert
group. Discord refuses `thread_id` and a new post's name together, so `thread_id` with `forum` is an error.

The environment's channel (the default receiver's, and `channels: [discord]`): DISCORD_WEBHOOK_URL(_FILE),
DISCORD_MENTION_ROLE_ID and DISCORD_ON_RESOLVE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from allim.secret import Secret
from allim.settings import Settings

FALLBACK_USERNAME = "allim"
USERNAME_MAX = 80
ON_RESOLVE = ("new", "edit")
BOTH_THREADS = "thread_id and forum: true cannot be used together (Discord refuses a thread id with a new post's name)"
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
    on_resolve: str = "new"  # "new": a resolve is a new message; "edit": it edits the group's latest message(s)
    thread_id: str | None = None  # an existing thread of the webhook's channel to post into
    forum: bool = False  # the webhook's channel is a forum (or media) channel: one post per alert group

    def __post_init__(self) -> None:
        if self.mention_role_id is not None and not self.mention_role_id.isdigit():
            raise ValueError("mention_role_id must be a Discord role id (digits)")
        if self.on_resolve not in ON_RESOLVE:
            raise ValueError(f"on_resolve must be one of {', '.join(ON_RESOLVE)}")
        if self.thread_id is not None and not self.thread_id.isdigit():
            raise ValueError("thread_id must be a Discord thread id (digits)")
        if self.thread_id is not None and self.forum:
            raise ValueError(BOTH_THREADS)
        if username_problem(self.username):
            object.__setattr__(self, "username", FALLBACK_USERNAME)

    @property
    def keeps_group_state(self) -> bool:
        """Whether notifications of a group depend on the group's earlier ones (message ids, the forum post)."""
        return self.on_resolve == "edit" or self.forum

    def secrets(self) -> tuple[Secret, ...]:
        return (self.webhook_url,)


class DiscordLoader:
    """Reads Discord webhooks from bridge.yml items and from the environment."""

    env_hint = "DISCORD_WEBHOOK_URL"

    def __init__(self, root: Settings) -> None:
        """Discord has no settings shared by its webhooks (no top-level section)."""

    def from_env(self, env: Settings) -> DiscordConfig | None:
        return _discord(env, env=True)

    def from_item(self, item: Settings) -> DiscordConfig | None:
        return _discord(item)


def _discord(settings: Settings, env: bool = False) -> DiscordConfig | None:
    url = settings.secret_url("webhook_url", env="DISCORD_WEBHOOK_URL" if env else None, required=not env)
    role = _snowflake(settings, "mention_role_id", "role", env="DISCORD_MENTION_ROLE_ID" if env else None)
    username = settings.string("username", FALLBACK_USERNAME) or FALLBACK_USERNAME
    problem = username_problem(username)
    if problem:
        settings.problem("username", problem)
    on_resolve = settings.string("on_resolve", "new", env="DISCORD_ON_RESOLVE" if env else None, choices=ON_RESOLVE)
    thread_id = None if env else _snowflake(settings, "thread_id", "thread")
    forum = False if env else settings.boolean("forum", False)
    if thread_id is not None and forum:
        settings.problem("thread_id", BOTH_THREADS)
        thread_id = None
    if url is None:
        return None
    return DiscordConfig(
        webhook_url=url,
        mention_role_id=role,
        username=username,
        on_resolve=on_resolve or "new",
        thread_id=thread_id,
        forum=forum,
    )


def _snowflake(settings: Settings, key: str, what: str, env: str | None = None) -> str | None:
    """A Discord id (digits; YAML may give it as a number), or None with a problem noted."""
    value = settings.string(key, None, env=env)
    if value is not None and not value.isdigit():
        settings.problem(key, f"must be a Discord {what} id (digits)")
        return None
    return value
