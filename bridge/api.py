"""The JSON API for scripts and the CLI: notifications with their delivery state, and the operator's actions.

    GET  /api/notifications?state=dead&receiver=NAME&limit=N&before=ID   newest first, paged by id
    GET  /api/notifications/{id}                                         one, with its alerts and previews
    POST /api/notifications/{id}/retry[?delivery=ID]                     its dead deliveries back to pending
    POST /api/channels/{channel}/retry-dead                              a channel name or key, or `all`
    POST /api/receivers/{receiver}/send-test                             what `allim-bridge send-test` sends

Every route needs the token when one is configured. The actions authenticate by header only, and a browser never
adds an Authorization header by itself except basic-auth credentials it remembers; `require_same_origin` refuses
requests a browser marks as made by another site, so a page elsewhere cannot use those. No form token is needed.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from allim.rejected import refusal
from bridge import actions, view
from bridge.access import endpoint, require_actions, require_same_origin
from bridge.notification import Alert, Notification
from bridge.outbox_reading import STATES
from bridge.previews import previews
from bridge.state import BridgeState

log = logging.getLogger("bridge.api")

MAX_LIMIT = 500
NOT_WHOLE = "{name} must be a whole number"


def _number(request: Request, name: str, default: int | None) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise refusal(400, "not_whole", NOT_WHOLE, name=name) from None


def listing_filters(request: Request) -> dict[str, Any]:
    """`state`, `receiver`, `before` and `limit` from the query, checked (400 with the reason)."""
    state = request.query_params.get("state") or None
    if state is not None and state not in STATES:
        raise refusal(400, "bad_state", "state must be one of {states}", states=", ".join(STATES))
    return {
        "state": state,
        "receiver": request.query_params.get("receiver") or None,
        "before": _number(request, "before", None),
    }


async def titled(state: BridgeState, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summaries, each with the notification's headline in the bridge's language (`title`)."""
    bodies = await state.outbox.bodies([s["id"] for s in summaries])
    fmt = state.config.formatting
    return [{**s, "title": view.headline(bodies[s["id"]], fmt) if s["id"] in bodies else ""} for s in summaries]


async def list_notifications(request: Request, state: BridgeState) -> Response:
    limit = min(MAX_LIMIT, max(1, _number(request, "limit", 50) or 1))
    found = await titled(state, await state.outbox.notifications(limit=limit, **listing_filters(request)))
    next_before = found[-1]["id"] if len(found) == limit else None
    return JSONResponse({"notifications": found, "next_before": next_before})


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at.isoformat() if alert.starts_at else None,
        "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
        "generator_url": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


async def found_notification(state: BridgeState, notification_id: int) -> tuple[dict[str, Any], Notification]:
    """The summary (with its title) and the notification; Rejected 404 when unknown."""
    found = await state.outbox.notification(notification_id)
    if found is None:
        raise refusal(404, "no_notification", actions.NO_NOTIFICATION, notification=notification_id)
    summary, notification = found
    return {**summary, "title": view.headline(notification, state.config.formatting)}, notification


async def get_notification(request: Request, state: BridgeState) -> Response:
    summary, notification = await found_notification(state, request.path_params["id"])
    return JSONResponse(
        {
            "notification": summary,
            "alerts": [alert_json(a) for a in notification.alerts],
            "previews": previews(state, notification, summary["deliveries"]),
        }
    )


def _acting(request: Request, state: BridgeState) -> str:
    """Checks an action may be made; the `via` its log line names (who asked, from where)."""
    require_actions(state.console_actions)
    require_same_origin(request)
    return f"api {request.client.host if request.client else '-'}"


async def retry_notification(request: Request, state: BridgeState) -> Response:
    via = _acting(request, state)
    notification_id = request.path_params["id"]
    retried = await actions.retry_notification(state, notification_id, _number(request, "delivery", None), via=via)
    body = [{"id": d["id"], "channel_key": d["channel_key"]} for d in retried]
    return JSONResponse({"notification": notification_id, "retried": body})


async def retry_dead(request: Request, state: BridgeState) -> Response:
    via = _acting(request, state)
    channel = request.path_params["channel"]
    return JSONResponse({"channel": channel, "retried": await actions.retry_dead(state, channel, via=via)})


async def send_test(request: Request, state: BridgeState) -> Response:
    via = _acting(request, state)
    return JSONResponse(await actions.send_test(state, request.path_params["receiver"], via=via))


def api_routes() -> list[Route]:
    return [
        Route("/api/notifications", endpoint(list_notifications), methods=["GET"]),
        Route("/api/notifications/{id:int}", endpoint(get_notification), methods=["GET"]),
        Route("/api/notifications/{id:int}/retry", endpoint(retry_notification), methods=["POST"]),
        Route("/api/channels/{channel:path}/retry-dead", endpoint(retry_dead), methods=["POST"]),
        Route("/api/receivers/{receiver}/send-test", endpoint(send_test), methods=["POST"]),
    ]
