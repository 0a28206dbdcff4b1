"""Our alert format, rendered without I/O: titles, text and HTML mail bodies, Discord payloads."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge import embeds, view
from bridge.alertmanager import Alert, Notification
from bridge.messages import words

if TYPE_CHECKING:
    from bridge.channels.discord import DiscordConfig

SUBJECT_TITLE_MAX = 200  # characters of the first alert's title kept in a subject
NAME_CELL = 'style="padding:2px 12px 2px 0;color:#666"'


@dataclass(frozen=True)
class Formatting:
    """How a receiver words and dates its notifications."""

    language: str = "en"  # "en" | "ko"
    timezone: str = "UTC"  # an IANA zone name, e.g. "Asia/Seoul"
    dashboard_url: str | None = None  # a Grafana link added to every notification when set


def title(alert: Alert, fmt: Formatting) -> str:
    """`[CRITICAL] HostDiskAlmostFull — web-1` / `[RESOLVED] ...`, on one line."""
    return view.title(alert, fmt)


def email_subject(notification: Notification, fmt: Formatting) -> str:
    """The most severe alert's title, plus `(+2 more)`; no control characters, so no header injection."""
    first = view.ordered_alerts(notification)[0]
    subject = view.title(first, fmt)
    if len(subject) > SUBJECT_TITLE_MAX:
        subject = subject[: SUBJECT_TITLE_MAX - 1] + "…"
    more = len(notification.alerts) - 1 + max(notification.truncated_alerts, 0)
    if more > 0:
        subject += f" ({words(fmt.language)['more'].format(n=more)})"
    return view.one_line(subject)


def _counts(notification: Notification, fmt: Formatting) -> str:
    firing = sum(1 for a in notification.alerts if a.status == "firing")
    return words(fmt.language)["counts"].format(firing=firing, resolved=len(notification.alerts) - firing)


def _views(notification: Notification, fmt: Formatting) -> list[view.AlertView]:
    return [view.alert_view(alert, notification, fmt) for alert in view.ordered_alerts(notification)]


def _rows(v: view.AlertView, fmt: Formatting) -> list[tuple[str, str]]:
    """The name/value lines under an alert's title, shared by the text and HTML bodies."""
    w = words(fmt.language)
    rows = [(w["severity"], v.severity_word)]
    rows += [(w["value"], v.value)] if v.value else []
    rows += list(v.details)
    rows += [(w["labels"], v.other_labels)] if v.other_labels else []
    rows += [(w["started"], v.started)] if v.started else []
    rows += [(w["ended"], v.ended)] if v.ended else []
    return rows


def text_body(notification: Notification, fmt: Formatting) -> str:
    """The plain-text part of the mail."""
    w = words(fmt.language)
    out = [_counts(notification, fmt), ""]
    for v in _views(notification, fmt):
        out.append(v.title)
        out += [v.summary] if v.summary else []
        out += [v.description] if v.description and v.description != v.summary else []
        out += [f"{name}: {value}" for name, value in _rows(v, fmt)]
        out += [f"{name}: {url}" for name, url in v.links]
        out.append("")
    if notification.truncated_alerts > 0:
        out += [w["truncated"].format(n=notification.truncated_alerts), ""]
    out += ["-- ", w["footer"].format(receiver=view.one_line(notification.receiver))]
    return "\n".join(out) + "\n"


def html_body(notification: Notification, fmt: Formatting) -> str:
    """The HTML part of the mail: inline styles only (mail clients drop <style>), every value escaped."""
    w = words(fmt.language)
    esc = html.escape
    parts = [f'<html><body style="font-family:sans-serif;font-size:14px"><p>{esc(_counts(notification, fmt))}</p>']
    for v in _views(notification, fmt):
        parts.append(f'<div style="border-left:4px solid #{v.colour:06x};padding:4px 12px;margin:12px 0">')
        parts.append(f'<h3 style="margin:4px 0">{esc(v.title)}</h3>')
        for text in (v.summary, v.description if v.description != v.summary else ""):
            if text:
                parts.append(f"<p>{esc(text).replace(chr(10), '<br>')}</p>")
        parts.append('<table style="border-collapse:collapse">')
        for name, value in _rows(v, fmt):
            parts.append(f"<tr><td {NAME_CELL}>{esc(name)}</td><td>{esc(value)}</td></tr>")
        parts.append("</table>")
        if v.links:
            links = " · ".join(f'<a href="{esc(url, quote=True)}">{esc(name)}</a>' for name, url in v.links)
            parts.append(f"<p>{links}</p>")
        parts.append("</div>")
    if notification.truncated_alerts > 0:
        parts.append(f"<p>{esc(w['truncated'].format(n=notification.truncated_alerts))}</p>")
    footer = w["footer"].format(receiver=view.one_line(notification.receiver))
    parts.append(f'<p style="color:#888;font-size:12px">{esc(footer)}</p></body></html>')
    return "\n".join(parts) + "\n"


def discord_messages(notification: Notification, fmt: Formatting, config: DiscordConfig) -> list[dict[str, Any]]:
    """Webhook JSON bodies, one embed per alert, split so that every Discord limit holds (see bridge.embeds)."""
    return embeds.discord_messages(_views(notification, fmt), notification, fmt, config)
