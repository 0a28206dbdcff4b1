"""A receiver's own wording: its Jinja2 templates (`templates:` in bridge.yml), parsed at load, rendered in the
sandbox, applied on top of the built-in view (bridge/view.py).

    receivers:
      ops:
        templates:
          title: "{{ alert.alertname }} on {{ alert.labels.instance }}"   # per alert, with `alert`, `notification`
          description: "{{ alert.annotations.summary }}"                   # per alert, the same context
          email_subject: "{{ alerts | length }} alerts: {{ notification.group_labels.alertname }}"  # `alerts` too

A template only reads plain values (dicts, lists, strings); the sandbox refuses Python internals (`__class__`,
...), caps `range()` and here also huge `*`/`**` results. Autoescape is off: the output is plain text that each
channel treats like any other value (cut to Discord's limits, HTML-escaped in mail, one line in a subject).
A template that fails while rendering costs nothing but its own text: the built-in text stands in for that part,
one warning per rendered notification is logged, and `Formatting.on_template_error` counts it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from bridge import view, where
from bridge.config import Formatting
from bridge.notification import Alert, Notification

log = logging.getLogger("bridge.templates")

OUTPUT_MAX = 20_000  # characters kept of one rendering (Discord's longest text is 4096)
REPEAT_MAX = 10_000  # the longest string or list `*` may build, and the largest `**` result's digits
SUBJECT_MAX = 250  # characters kept of a rendered mail subject


class RenderError(Exception):
    """A template failed while rendering; the message is one line (the exception's type and text)."""


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, plus bounds on `*` and `**`: `{{ "x" * 10**9 }}` fails instead of eating the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and any(isinstance(v, str | list | tuple) for v in (left, right)):
            count = right if isinstance(right, int) else left
            size = len(left if isinstance(left, str | list | tuple) else right)
            if isinstance(count, int) and count * size > REPEAT_MAX:
                raise SecurityError(f"`*` would build {count * size} items (at most {REPEAT_MAX})")
        if operator == "**" and isinstance(right, int | float) and isinstance(left, int | float):
            if abs(right) * max(len(str(abs(int(left)))), 1) > REPEAT_MAX:
                raise SecurityError("`**` result too large")
        return super().call_binop(context, operator, left, right)


_ENV = _Sandbox(autoescape=False)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Parsed once per source (a group of 300 alerts renders the title 300 times)."""
    return _ENV.from_string(source)


def syntax_problem(source: str) -> str | None:
    """Why `source` does not parse, in one line (None when it does): for the config check at start."""
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:
        return f"template does not parse: {exc.message} (line {exc.lineno})"
    return None


def render(source: str, context: Mapping[str, Any]) -> str:
    """The template's text; raises RenderError for anything that goes wrong (undefined values used in
    arithmetic, a sandbox violation, any exception a filter raises)."""
    try:
        text = _compiled(source).render(context)
    except Exception as exc:  # whatever a template does wrong must not cost the notification
        raise RenderError(view.one_line(f"{type(exc).__name__}: {exc}")[:300]) from None
    return text[:OUTPUT_MAX]


# -- what a template sees --------------------------------------------------------------------
def alert_context(alert: Alert, fmt: Formatting) -> dict[str, Any]:
    """`alert` in title and description templates; times in the receiver's zone, `ends_at` empty while firing.
    `annotations` as the rule wrote them (`summary` and `summary_ko` both), `text` each one in the receiver's
    language (Alert.texts), `value` the value annotation in that language; `subject` and `host` as the built-in
    format names them (bridge/where.py: a Sentry alert has a subject but no host)."""
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "text": alert.texts(fmt.language),
        "status": alert.status,
        "severity": alert.severity,
        "alertname": alert.name,
        "subject": where.subject(alert),
        "host": where.host(alert),
        "starts_at": view.format_time(alert.starts_at, fmt),
        "ends_at": view.format_time(alert.ends_at, fmt) if alert.status == "resolved" else "",
        "value": alert.text("value", fmt.language),
        "generator_url": alert.generator_url,
    }


def notification_context(notification: Notification) -> dict[str, Any]:
    """`notification` in every template."""
    return {
        "receiver": notification.receiver,
        "status": notification.status,
        "group_labels": dict(notification.group_labels),
        "common_labels": dict(notification.common_labels),
        "common_annotations": dict(notification.common_annotations),
        "external_url": notification.external_url,
    }


# -- applied to the built-in view ------------------------------------------------------------
def alert_views(notification: Notification, fmt: Formatting) -> list[view.AlertView]:
    """view.alert_views with the receiver's `title` and `description` templates applied: a rendered description
    replaces the summary and description paragraphs. A title that renders blank keeps the built-in one."""
    views = view.alert_views(notification, fmt)
    templates = fmt.templates
    if not (templates.title or templates.description):
        return views
    failures: list[str] = []
    shared = notification_context(notification)
    applied = []
    for alert, built_in in zip(view.ordered_alerts(notification), views, strict=True):
        context = {"alert": alert_context(alert, fmt), "notification": shared}
        changes: dict[str, Any] = {}
        if templates.title:
            title = view.one_line(_rendered("title", templates.title, context, failures) or "")
            if title:
                changes["title"] = title
        if templates.description:
            text = _rendered("description", templates.description, context, failures)
            if text is not None:
                changes.update(summary=view.multi_line(text), description="")
        applied.append(replace(built_in, **changes) if changes else built_in)
    _report(notification, fmt, failures)
    return applied


def subject(notification: Notification, fmt: Formatting) -> str:
    """The mail subject: the `email_subject` template on one line, or the built-in headline."""
    source = fmt.templates.email_subject
    if not source:
        return view.headline(notification, fmt)
    failures: list[str] = []
    alerts = [alert_context(a, fmt) for a in view.ordered_alerts(notification)]
    context = {"notification": notification_context(notification), "alerts": alerts}
    text = view.one_line(_rendered("email_subject", source, context, failures) or "")[:SUBJECT_MAX]
    _report(notification, fmt, failures)
    return text or view.headline(notification, fmt)


def _rendered(key: str, source: str, context: Mapping[str, Any], failures: list[str]) -> str | None:
    """The rendering, or None (the caller keeps the built-in text) with the failure noted."""
    try:
        return render(source, context)
    except RenderError as exc:
        failures.append(f"{key}: {exc}")
        return None


def _report(notification: Notification, fmt: Formatting, failures: list[str]) -> None:
    """One warning and one count per rendered notification, however many of its alerts failed."""
    if not failures:
        return
    keys = sorted({failure.split(":", 1)[0] for failure in failures})
    extra = {"receiver": notification.receiver, "templates": ",".join(keys), "failed": len(failures)}
    log.warning("template failed, the built-in text is used", extra={**extra, "err": failures[0]})
    fmt.on_template_error(notification.receiver)
