"""The console's pages and form actions (see bridge/console/__init__.py for the routes)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from allim.rejected import Rejected, refusal
from allim.requests import Endpoint, envelope, read_body
from allim.web.pages import environment, page
from bridge import actions, view
from bridge.access import BASIC_CHALLENGE, require_actions, require_same_origin, require_token
from bridge.api import NOT_WHOLE, found_notification, listing_filters, titled
from bridge.config import BridgeConfig
from bridge.console.csrf import FIELD, FormTokens
from bridge.console.words import NOTES, reason, words
from bridge.outbox_reading import STATES
from bridge.previews import NOTES as ENGLISH_NOTES
from bridge.previews import previews
from bridge.state import BridgeState

log = logging.getLogger("bridge.console")

TEMPLATES = environment("bridge.console")
PAGE_SIZE = 25
FORM_LIMIT = 16 * 1024
NOTICES = ("retried", "send_test")  # `?done=` after an action: which message the page shows
ERROR_PAGE = "error.html"  # also for a 401: no form token is issued on it
CONSOLE_TOKEN = "the console needs the bridge's token: any user name, BRIDGE_AUTH_TOKEN as the password"


@dataclass(frozen=True)
class Console:
    tokens: FormTokens
    clock: Callable[[], float] = time.time


ConsoleHandler = Callable[[Request, BridgeState, Console], Awaitable[Response]]


def _render(request: Request, state: BridgeState, console: Console, template: str, context: dict[str, Any]) -> Response:
    fmt = state.config.formatting
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    common = {
        "t": words(fmt.language),
        "actions": state.console_actions,
        "auth": state.config.auth_token is not None,
        "csrf_field": FIELD,
        "csrf": console.tokens.issue() if state.console_actions and template != ERROR_PAGE else "",  # no forms there
        "here": here,
        "notice": None,
    }
    status = context.pop("status", 200)
    return page(
        TEMPLATES,
        request,
        template,
        {**common, **context},
        language=fmt.language,
        zone=fmt.timezone,
        status=status,
        clock=console.clock,
    )


def _guard(console: Console, handler: ConsoleHandler) -> Endpoint:
    """The token (basic auth prompt), then the handler; a refusal is shown as a page in the console's language (a 401
    with the challenge that makes the browser ask for the token)."""

    async def guarded(request: Request) -> Response:
        state: BridgeState = request.app.state.bridge
        try:
            require_token(request, state.config.auth_token, CONSOLE_TOKEN, key="console_token")
            return await handler(request, state, console)
        except Rejected as exc:
            log.info("console request refused", extra={"path": request.url.path, "code": exc.status, "err": exc.reason})
            why = reason(exc, state.config.formatting.language)
            answer = _render(
                request, state, console, "error.html", {"status": exc.status, "code": exc.status, "reason": why}
            )
            if exc.status == 401:  # the browser then asks for the user name and password
                answer.headers["WWW-Authenticate"] = BASIC_CHALLENGE
            return answer

    return envelope(guarded, log=log)


# -- pages -------------------------------------------------------------------------------------
def _receivers(state: BridgeState, counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    zeros = dict.fromkeys(STATES, 0)
    return [
        {
            "name": name,
            "channels": [
                {"key": ref.key, "name": ref.name, "target": ref.target, "counts": counts.get(ref.key, zeros)}
                for ref in refs
            ],
        }
        for name, refs in sorted(state.receivers.items())
    ]


def _notice(request: Request) -> dict[str, Any] | None:
    done = request.query_params.get("done")
    count = request.query_params.get("count", "0")
    if done not in NOTICES or not count.isdigit():
        return None
    return {"key": f"done_{done}", "count": int(count)}


async def overview(request: Request, state: BridgeState, console: Console) -> Response:
    filters = listing_filters(request)
    found = await titled(state, await state.outbox.notifications(limit=PAGE_SIZE, **filters))
    query = {k: v for k, v in (("state", filters["state"]), ("receiver", filters["receiver"])) if v}
    older = f"?{urlencode({**query, 'before': found[-1]['id']})}" if len(found) == PAGE_SIZE else None
    database = state.outbox.database
    context = {
        "store": {"name": database.name, "where": database.where},
        "uptime": max(0.0, console.clock() - state.started_at) if state.started_at else None,
        "language": state.config.formatting.language,
        "receivers": _receivers(state, await state.outbox.delivery_counts()),
        "notifications": found,
        "filters": filters,
        "states": STATES,
        "older": older,
        "newest": f"?{urlencode(query)}" if filters["before"] is not None else None,
        "notice": _notice(request),
    }
    return _render(request, state, console, "overview.html", context)


def _alert_rows(state: BridgeState, notification: Any) -> list[dict[str, Any]]:
    fmt = state.config.formatting
    return [
        {
            "title": view.title(alert, fmt),
            "status": alert.status,
            "severity": alert.severity,
            "labels": sorted(alert.labels.items()),
            "annotations": sorted(alert.annotations.items()),
            "started": view.format_time(alert.starts_at, fmt),
            "ended": view.format_time(alert.ends_at, fmt),
            "source": alert.generator_url if view.is_link(alert.generator_url) else "",
        }
        for alert in view.ordered_alerts(notification)
    ]


async def detail(request: Request, state: BridgeState, console: Console) -> Response:
    summary, notification = await found_notification(state, request.path_params["id"])
    notes = NOTES.get(state.config.formatting.language, ENGLISH_NOTES)
    context = {
        "n": summary,
        "alerts": _alert_rows(state, notification),
        "previews": {p["channel_key"]: p for p in previews(state, notification, summary["deliveries"], notes)},
        "external_url": notification.external_url if view.is_link(notification.external_url) else "",
        "notice": _notice(request),
    }
    return _render(request, state, console, "notification.html", context)


# -- actions -----------------------------------------------------------------------------------
async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Rejected(415, "a console action is a form post (application/x-www-form-urlencoded)", key="form_type")
    try:
        text = (await read_body(request, FORM_LIMIT)).decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "the form is not UTF-8", key="form_utf8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


async def _acting(request: Request, state: BridgeState, console: Console) -> tuple[dict[str, str], str]:
    """Refuses an action that may not be made (off, another site's page, no valid form token); the form and the
    `via` its log line names."""
    require_actions(state.console_actions)
    require_same_origin(request)
    form = await _form(request)
    console.tokens.check(form.get(FIELD))
    return form, f"console {request.client.host if request.client else '-'}"


def _local(target: str) -> bool:
    """A path on this server (never `//elsewhere`, a scheme or a control character): where a form may return."""
    return target.startswith("/") and not target.startswith("//") and target.isprintable() and "\\" not in target


def _back(request: Request, form: dict[str, str], default: str, done: str, count: int) -> Response:
    """303 to the page the form came from (its `next`), telling it what was done."""
    root = request.scope.get("root_path", "")
    target = form.get("next", "")
    if not _local(target):
        target = root + default
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "count")]
    query += [("done", done), ("count", str(count))]
    return RedirectResponse(f"{parts.path}?{urlencode(query)}", status_code=303)


def _whole(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        raise refusal(400, "not_whole", NOT_WHOLE, name=name)
    return int(value)


async def retry_notification(request: Request, state: BridgeState, console: Console) -> Response:
    form, via = await _acting(request, state, console)
    notification_id = request.path_params["id"]
    retried = await actions.retry_notification(state, notification_id, _whole(form, "delivery"), via=via)
    return _back(request, form, f"/notifications/{notification_id}", "retried", len(retried))


async def retry_dead(request: Request, state: BridgeState, console: Console) -> Response:
    form, via = await _acting(request, state, console)
    count = await actions.retry_dead(state, request.path_params["channel"], via=via)
    return _back(request, form, "/", "retried", count)


async def send_test(request: Request, state: BridgeState, console: Console) -> Response:
    form, via = await _acting(request, state, console)
    await actions.send_test(state, request.path_params["receiver"], via=via)
    return _back(request, form, "/", "send_test", 1)


def console_routes(config: BridgeConfig, clock: Callable[[], float] = time.time) -> list[Route]:
    console = Console(FormTokens.for_token(config.auth_token, clock=clock), clock)
    return [
        Route("/", _guard(console, overview), methods=["GET", "HEAD"]),
        Route("/notifications/{id:int}", _guard(console, detail), methods=["GET", "HEAD"]),
        Route("/notifications/{id:int}/retry", _guard(console, retry_notification), methods=["POST"]),
        Route("/channels/{channel:path}/retry-dead", _guard(console, retry_dead), methods=["POST"]),
        Route("/receivers/{receiver}/send-test", _guard(console, send_test), methods=["POST"]),
    ]
