"""Discord webhook bodies, built without I/O: one embed per alert, split over as many messages as Discord's
limits require.

Lengths are counted in UTF-16 code units, which is never less than Discord's own count, so a payload that
fits here fits there. Anything cut gets an ellipsis, and one warning per notification says what was cut.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from bridge import templates, view
from bridge.channels.discord.config import DiscordConfig
from bridge.config import Formatting
from bridge.messages import words
from bridge.notification import Alert, Notification

log = logging.getLogger(__name__)

TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # title + description + field names/values + footer + author, summed over a message
EMBEDS = 10
CONTENT = 2000
THREAD_NAME = 100  # a forum post's name
NO_PINGS: dict[str, list[str]] = {"parse": []}
ELLIPSIS = "…"

Embed = dict[str, Any]


def length(text: str) -> int:
    """Discord-safe length: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int, clipped: list[str], what: str) -> str:
    """`text` cut to `limit` with an ellipsis; records `what` in `clipped` when it cuts."""
    if length(text) <= limit:
        return text
    clipped.append(what)
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            return text[:i] + ELLIPSIS
    return text  # not reached: the text is longer than the limit


def embed_length(embed: Embed) -> int:
    total = length(embed.get("title", "")) + length(embed.get("description", ""))
    total += sum(length(f["name"]) + length(f["value"]) for f in embed.get("fields", []))
    total += length(embed.get("footer", {}).get("text", "")) + length(embed.get("author", {}).get("name", ""))
    return total


def _markdown_link(name: str, url: str) -> str:
    return f"[{name}]({url.replace(' ', '%20').replace(')', '%29')})"


def _links_value(links: tuple[tuple[str, str], ...]) -> str:
    """Whole links only, as many as fit in one field: a URL cut in half is worse than a missing one."""
    value = ""
    for name, url in links:
        candidate = f"{value} · {_markdown_link(name, url)}" if value else _markdown_link(name, url)
        if length(candidate) <= FIELD_VALUE:
            value = candidate
    return value


def _fields(v: view.AlertView, fmt: Formatting) -> list[tuple[str, str, bool]]:
    w = words(fmt.language)
    fields = [(name, value, True) for name, value in view.facts(v, fmt)]
    fields += [(w["labels"], v.other_labels, False)] if v.other_labels else []
    links = _links_value(v.links)
    fields += [(w["links"], links, False)] if links else []
    return fields[:FIELDS]


def build_embed(v: view.AlertView, fmt: Formatting, footer: str, clipped: list[str]) -> Embed:
    embed: Embed = {"title": clip(v.title, TITLE, clipped, "title"), "color": v.colour}
    description = "\n\n".join(t for t in (v.summary, v.description if v.description != v.summary else "") if t)
    if description:
        embed["description"] = clip(description, DESCRIPTION, clipped, "description")
    embed["fields"] = [
        {
            "name": clip(name, FIELD_NAME, clipped, "field name"),
            "value": clip(value or "-", FIELD_VALUE, clipped, "field value"),
            "inline": inline,
        }
        for name, value, inline in _fields(v, fmt)
    ]
    embed["footer"] = {"text": clip(footer, FOOTER, clipped, "footer")}
    _fit(embed, EMBED_TOTAL, clipped)
    return embed


def _fit(embed: Embed, budget: int, clipped: list[str]) -> None:
    """Shrink one embed to `budget`: the description first, then the longest field values, then drop fields."""
    excess = embed_length(embed) - budget
    if excess > 0 and "description" in embed:
        text = embed["description"]
        embed["description"] = clip(text, max(length(text) - excess, 64), clipped, "description")
    for field in sorted(embed["fields"], key=lambda f: -length(f["value"])):
        excess = embed_length(embed) - budget
        if excess <= 0:
            break
        field["value"] = clip(field["value"], max(length(field["value"]) - excess, 16), clipped, "field value")
    while embed_length(embed) > budget and embed["fields"]:
        embed["fields"].pop()
        clipped.append("fields")


def _mention(notification: Notification, config: DiscordConfig) -> str | None:
    """The role to ping (a numeric id: the config holds no other): only for a firing notification with a critical
    firing alert."""
    critical = any(a.status == "firing" and a.severity == "critical" for a in notification.alerts)
    return config.mention_role_id if notification.status == "firing" and critical else None


def pack(embeds: list[Embed]) -> list[list[Embed]]:
    """Greedy split: ≤10 embeds and ≤6000 characters of embed text per message, order kept."""
    batches: list[list[Embed]] = []
    size = 0
    for embed in embeds:
        n = embed_length(embed)
        if not batches or len(batches[-1]) == EMBEDS or size + n > EMBED_TOTAL:
            batches.append([])
            size = 0
        batches[-1].append(embed)
        size += n
    return batches


def discord_messages(notification: Notification, fmt: Formatting, config: DiscordConfig) -> list[dict[str, Any]]:
    """The webhook bodies, in sending order. Only our own words (a role mention, a count) go into `content`."""
    clipped: list[str] = []
    footer = words(fmt.language)["footer"].format(receiver=view.one_line(notification.receiver))
    views = templates.alert_views(notification, fmt)
    embeds = [build_embed(v, fmt, footer, clipped) for v in views]
    messages: list[dict[str, Any]] = [
        {"username": config.username, "allowed_mentions": {"parse": []}, "embeds": batch} for batch in pack(embeds)
    ]
    content = _first_content(notification, fmt, config)
    if messages and content:
        role = _mention(notification, config)
        messages[0]["content"] = clip(content, CONTENT, clipped, "content")
        if role:
            messages[0]["allowed_mentions"] = {"parse": [], "roles": [role]}
    if clipped:
        log.warning(
            "discord payload truncated to fit Discord's limits",
            extra={"cut": len(clipped), "parts": ",".join(sorted(set(clipped))), "alerts": len(views)},
        )
    return messages


def _first_content(notification: Notification, fmt: Formatting, config: DiscordConfig) -> str:
    role = _mention(notification, config)
    lines = [f"<@&{role}>"] if role else []
    note = view.truncated_note(notification, fmt)
    return "\n".join([*lines, note] if note else lines)


# -- edit in place and forum posts -------------------------------------------------------------
def thread_name(notification: Notification, fmt: Formatting) -> str:
    """The name of a group's forum post: the group's headline, cut to Discord's 100 characters."""
    return clip(view.headline(notification, fmt), THREAD_NAME, [], "thread name")


def quiet(body: dict[str, Any]) -> dict[str, Any]:
    """A body that pings nobody: what a resolve posts or edits (only a new firing notification may ping)."""
    return {**body, "allowed_mentions": dict(NO_PINGS)}


def edit_body(body: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body that turns a message into `body`: every field it shows replaced (`content: null` clears
    an earlier mention line), no pings, and none of the execute-only fields (username, thread_name)."""
    return {"content": body.get("content"), "embeds": body["embeds"], "allowed_mentions": dict(NO_PINGS)}


def _alert_key(alert: Alert) -> str:
    return alert.fingerprint or json.dumps(alert.labels, sort_keys=True)


def current_state(shown: Notification, update: Notification) -> Notification:
    """What the group's messages should show now: the alerts they show, each replaced by its state in `update`,
    then `update`'s other alerts. Alertmanager leaves an alert out of later notifications once its resolve was
    sent, so an edit keeps showing it resolved instead of dropping it."""
    latest = {_alert_key(alert): alert for alert in update.alerts}
    alerts = [latest.pop(_alert_key(alert), alert) for alert in shown.alerts]
    alerts += latest.values()
    status = "firing" if any(alert.status == "firing" for alert in alerts) else "resolved"
    return replace(update, alerts=tuple(alerts), status=status)
