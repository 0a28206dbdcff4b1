"""What a notification says, independent of the channel: titles, texts, details, times and links (pure, no I/O).

Each channel's format.py lays these out for its medium (bridge/channels/<name>/format.py).

Every string here is plain, untrusted text: each channel escapes it for its medium (HTML for mail, nothing
to escape for Discord embeds, whose mentions never ping). Single-line values have control characters removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge import where
from bridge.config import Formatting
from bridge.messages import words
from bridge.notification import Alert, Notification

SILENCE_VALUE_MAX = 100  # longer label values are left out of silence links
SENTRY_KEYS = ("sentry_issue_url", "sentry_url", "issue_url")
SEVERITY_ORDER = ("critical", "high", "warning", "info")
HEADLINE_TITLE_MAX = 200  # characters of the first alert's title kept in a headline (a mail subject)
# Embed / mail accent colours: by severity while firing, green once resolved.
COLOURS = {"critical": 0xE01E5A, "high": 0xF2711C, "warning": 0xECB22E, "info": 0x3B82F6, "resolved": 0x2EB67D}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """Text safe for a header or a title: every run of control characters (CR, LF, tab...) becomes one space."""
    return _CONTROL.sub(" ", text).strip()


def multi_line(text: str) -> str:
    """Text kept on several lines, without the other control characters."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(one_line(line) for line in lines).strip()


def colour(alert: Alert) -> int:
    return COLOURS["resolved"] if alert.status == "resolved" else COLOURS[alert.severity]


def tag(alert: Alert) -> str:
    return "RESOLVED" if alert.status == "resolved" else alert.severity.upper()


def what(alert: Alert, fmt: Formatting) -> str:
    """What the alert is about (bridge/where.py: a project, a monitor, `web-1 /var`...), else its summary."""
    return one_line(where.subject(alert) or alert.text("summary", fmt.language))


def title(alert: Alert, fmt: Formatting) -> str:
    """`[CRITICAL] HostDiskAlmostFull — web-1`, or `[RESOLVED] ...` (the tag is the same in every language)."""
    subject = what(alert, fmt)
    head = f"[{tag(alert)}] {one_line(alert.name)}"
    return f"{head} — {subject}" if subject else head


def format_time(moment: datetime | None, fmt: Formatting) -> str:
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(fmt.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def format_duration(seconds: float, fmt: Formatting) -> str:
    """`2d 3h`, `1h 30m`, `45s`: the two largest units, in the receiver's language."""
    w = words(fmt.language)
    left = max(int(seconds), 0)
    parts: list[str] = []
    for key, size in (("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if left >= size or (key == "seconds" and not parts):
            parts.append(w[key].format(n=left // size))
            left %= size
    return " ".join(parts[:2])


def fired_for(alert: Alert, fmt: Formatting) -> str:
    """How long a resolved alert fired (empty while firing, or when a time is missing)."""
    if alert.status != "resolved" or alert.starts_at is None or alert.ends_at is None:
        return ""
    return format_duration((alert.ends_at - alert.starts_at).total_seconds(), fmt)


def is_link(url: str) -> bool:
    """Only http(s) URLs become links: a `javascript:` runbook must never reach an href."""
    return url.startswith(("http://", "https://")) and not _CONTROL.search(url)


def silence_url(alert: Alert, external_url: str) -> str:
    """Alertmanager's "new silence" page with the alert's labels as matchers, alertname first.

    Labels with huge values are left out (the link must fit in a Discord field); the silence form shows the
    matchers before anything is created, so a broader filter is visible to whoever uses it.
    """
    if not is_link(external_url):
        return ""
    short = [k for k, v in alert.labels.items() if len(v) <= SILENCE_VALUE_MAX]
    names = sorted(short, key=lambda k: (k != "alertname", k))
    return f"{external_url.rstrip('/')}/#/silences/new?filter={_matchers(alert.labels, names)}"


def _matchers(labels: dict[str, str], names: list[str]) -> str:
    """`{a="1",b="2"}` URL-encoded, for an Alertmanager UI filter."""
    matchers = ",".join(f'{k}="{_matcher_value(labels[k])}"' for k in names)
    return quote("{" + matchers + "}", safe="")


def alerts_url(notification: Notification) -> str:
    """Alertmanager's alert list filtered to the notification's group labels: where the alerts that max_alerts left
    out of the notification are (empty without an http(s) external URL)."""
    if not is_link(notification.external_url):
        return ""
    base = f"{notification.external_url.rstrip('/')}/#/alerts"
    labels = notification.group_labels
    names = sorted(k for k, v in labels.items() if len(v) <= SILENCE_VALUE_MAX)
    return f"{base}?filter={_matchers(labels, names)}" if names else base


def truncated_note(notification: Notification, fmt: Formatting) -> str:
    """How many alerts Alertmanager left out (max_alerts) and where they are; empty when none were."""
    if notification.truncated_alerts <= 0:
        return ""
    w = words(fmt.language)
    url = alerts_url(notification)
    rest = w["truncated_where"].format(url=url) if url else w["truncated_nowhere"]
    return f"{w['truncated'].format(n=notification.truncated_alerts)} {rest}"


def _matcher_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class AlertView:
    """One alert, rendered to plain strings in the receiver's language and zone."""

    title: str
    status: str
    status_word: str  # "발생 중" / "firing", "해소됨" / "resolved"
    colour: int
    severity: str
    severity_word: str
    value: str
    value_name: str  # "Value" while firing; "Last value while firing" once resolved (Prometheus sends no newer one)
    summary: str
    description: str
    details: tuple[tuple[str, str], ...]  # (translated name, value): what and where (bridge/where.py)
    other_labels: str  # `key=value, ...` for the labels not shown elsewhere
    started: str
    ended: str
    fired_for: str  # how long a resolved alert fired ("1h 30m"); empty while firing
    links: tuple[tuple[str, str], ...]  # (translated name, http(s) URL)


def facts(v: AlertView, fmt: Formatting) -> list[tuple[str, str]]:
    """The (name, value) lines under an alert's title, the same in both channels: status, severity, value, what and
    where, times (a resolved alert's end and how long it fired). The channel adds the `Labels` line and the links."""
    w = words(fmt.language)
    lines = [(w["status"], v.status_word), (w["severity"], v.severity_word)]
    lines += [(v.value_name, v.value)] if v.value else []
    lines += list(v.details)
    for key, text in (("started", v.started), ("ended", v.ended), ("fired_for", v.fired_for)):
        lines += [(w[key], text)] if text else []
    return lines


def alert_view(alert: Alert, notification: Notification, fmt: Formatting) -> AlertView:
    language = fmt.language
    w = words(language)
    shown = {"alertname", "severity", *where.shown_labels()}
    others = ", ".join(f"{k}={one_line(v)}" for k, v in sorted(alert.labels.items()) if k not in shown)
    return AlertView(
        title=title(alert, fmt),
        status=alert.status,
        status_word=w[alert.status],
        colour=colour(alert),
        severity=alert.severity,
        severity_word=w[alert.severity],
        value=one_line(alert.text("value", language)),
        value_name=w["last_value" if alert.status == "resolved" else "value"],
        summary=multi_line(alert.text("summary", language)),
        description=multi_line(alert.text("description", language)),
        details=tuple((w[key], one_line(value)) for key, value in where.details(alert)),
        other_labels=others,
        started=format_time(alert.starts_at, fmt),
        ended=format_time(alert.ends_at, fmt) if alert.status == "resolved" else "",
        fired_for=fired_for(alert, fmt),
        links=_links(alert, notification, fmt),
    )


def _links(alert: Alert, notification: Notification, fmt: Formatting) -> tuple[tuple[str, str], ...]:
    w = words(fmt.language)
    sentry = next((src[k] for k in SENTRY_KEYS for src in (alert.annotations, alert.labels) if src.get(k)), "")
    candidates = (
        ("runbook", alert.text("runbook_url", fmt.language)),
        ("dashboard", alert.text("dashboard_url", fmt.language) or fmt.dashboard_url or ""),
        ("query", alert.generator_url),
        ("sentry", sentry),
        ("silence", silence_url(alert, notification.external_url) if alert.status == "firing" else ""),
    )
    return tuple((w[key], url.strip()) for key, url in candidates if is_link(url.strip()))


def ordered_alerts(notification: Notification) -> list[Alert]:
    """Firing before resolved, most severe first; stable otherwise (Alertmanager's order)."""
    return sorted(
        notification.alerts,
        key=lambda a: (a.status != "firing", SEVERITY_ORDER.index(a.severity)),
    )


def alert_views(notification: Notification, fmt: Formatting) -> list[AlertView]:
    """Every alert of the notification, in showing order (see ordered_alerts)."""
    return [alert_view(alert, notification, fmt) for alert in ordered_alerts(notification)]


def headline(notification: Notification, fmt: Formatting) -> str:
    """The most severe alert's title, plus `(+2 more)`, on one line (a mail subject: no header injection)."""
    first = ordered_alerts(notification)[0]
    text = title(first, fmt)
    if len(text) > HEADLINE_TITLE_MAX:
        text = text[: HEADLINE_TITLE_MAX - 1] + "…"
    more = len(notification.alerts) - 1 + max(notification.truncated_alerts, 0)
    if more > 0:
        text += f" ({words(fmt.language)['more'].format(n=more)})"
    return one_line(text)
