"""The mail of a notification, built without I/O: subject, plain-text and HTML bodies, threading headers.

Threading: every mail of an Alertmanager group carries `In-Reply-To`/`References` pointing at one synthetic root
id derived from the receiver and groupKey (as Alertmanager's own email threading does), so the resolved mail joins
the firing one in mail clients, while each mail keeps its own unique `Message-ID` (servers drop mails whose
Message-ID they already saw). `List-Id: <receiver.allim>` (RFC 2919) and `X-Allim-Receiver` let mail rules file
the alerts per receiver.
"""

from __future__ import annotations

import hashlib
import html
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bridge import templates, view
from bridge.channels.email.config import EmailConfig
from bridge.config import Formatting
from bridge.messages import words
from bridge.notification import Notification

MESSAGE_ID_DOMAIN = "allim"
NAME_CELL = 'style="padding:2px 12px 2px 0;color:#666"'


def subject(notification: Notification, fmt: Formatting) -> str:
    """The most severe alert's title, plus `(+2 more)` (or the receiver's `email_subject` template); no control
    characters, so no header injection."""
    return templates.subject(notification, fmt)


def _counts(notification: Notification, fmt: Formatting) -> str:
    firing = sum(1 for a in notification.alerts if a.status == "firing")
    return words(fmt.language)["counts"].format(firing=firing, resolved=len(notification.alerts) - firing)


def _rows(v: view.AlertView, fmt: Formatting) -> list[tuple[str, str]]:
    """The name/value lines under an alert's title, shared by the text and HTML bodies."""
    rows = view.facts(v, fmt)
    rows += [(words(fmt.language)["labels"], v.other_labels)] if v.other_labels else []
    return rows


def text_body(notification: Notification, fmt: Formatting, views: list[view.AlertView] | None = None) -> str:
    """The plain-text part of the mail (`views`: the alerts as build_message rendered them once for both parts)."""
    w = words(fmt.language)
    out = [_counts(notification, fmt), ""]
    for v in templates.alert_views(notification, fmt) if views is None else views:
        out.append(v.title)
        out += [v.summary] if v.summary else []
        out += [v.description] if v.description and v.description != v.summary else []
        out += [f"{name}: {value}" for name, value in _rows(v, fmt)]
        out += [f"{name}: {url}" for name, url in v.links]
        out.append("")
    note = view.truncated_note(notification, fmt)
    out += [note, ""] if note else []
    out += ["-- ", w["footer"].format(receiver=view.one_line(notification.receiver))]
    return "\n".join(out) + "\n"


def html_body(notification: Notification, fmt: Formatting, views: list[view.AlertView] | None = None) -> str:
    """The HTML part of the mail: inline styles only (mail clients drop <style>), every value escaped (template
    output included: a template writes text, not markup)."""
    w = words(fmt.language)
    esc = html.escape
    parts = [f'<html><body style="font-family:sans-serif;font-size:14px"><p>{esc(_counts(notification, fmt))}</p>']
    for v in templates.alert_views(notification, fmt) if views is None else views:
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
    note = view.truncated_note(notification, fmt)
    parts += [f"<p>{esc(note)}</p>"] if note else []
    footer = w["footer"].format(receiver=view.one_line(notification.receiver))
    parts.append(f'<p style="color:#888;font-size:12px">{esc(footer)}</p></body></html>')
    return "\n".join(parts) + "\n"


def thread_root_id(notification: Notification) -> str:
    """A stable `<hash@allim>` per receiver and alert group: the id every mail of the group replies to."""
    group = notification.group_key or "|".join(sorted({a.name for a in notification.alerts}))
    digest = hashlib.sha256(f"{notification.receiver}\0{group}".encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def list_id(receiver: str) -> str:
    """RFC 2919 `List-Id` of a receiver's mails, `<ops.allim>`: what mail rules file alerts by."""
    label = re.sub(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]", "-", receiver).strip(".") or "receiver"
    return f"<{label}.{MESSAGE_ID_DOMAIN}>"


def build_message(notification: Notification, config: EmailConfig, formatting: Formatting) -> EmailMessage:
    """The mail: subject without control characters, text part first, then the escaped HTML part."""
    msg = EmailMessage()
    msg["From"] = config.from_addr
    msg["To"] = ", ".join(config.to)
    msg["Subject"] = subject(notification, formatting)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    root = thread_root_id(notification)
    msg["In-Reply-To"] = root
    msg["References"] = root
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to alerts
    msg["List-Id"] = list_id(notification.receiver)
    msg["X-Allim-Receiver"] = view.one_line(notification.receiver)
    views = templates.alert_views(notification, formatting)  # once: a failing template is reported once
    msg.set_content(text_body(notification, formatting, views))
    msg.add_alternative(html_body(notification, formatting, views), subtype="html")
    return msg
