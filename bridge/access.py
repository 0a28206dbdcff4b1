"""Who may use the bridge's endpoints: the shared token, the switch for actions, and refusing other sites' pages.

- The token (`BRIDGE_AUTH_TOKEN`) is read with `allim.requests.request_token` (bearer, or basic auth with the token
  as password) and compared with `Secret.matches` (constant time). Without a configured token every caller passes.
- Actions (retry, retry all dead, send test) need the token when one is set; without one they are refused unless
  `--web.console-actions` / `console_actions: true` switched them on.
- A browser attaches remembered basic-auth credentials to any request to the bridge, also one made by another
  site's page; `require_same_origin` refuses requests a browser marks as coming from elsewhere. Scripts send
  neither header and pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from allim.rejected import Rejected
from allim.requests import Endpoint, envelope, request_token
from allim.secret import Secret
from bridge.state import BridgeState

log = logging.getLogger("bridge")

Handler = Callable[[Request, BridgeState], Awaitable[Response]]

BEARER_CHALLENGE = 'Bearer realm="allim-bridge"'
BASIC_CHALLENGE = 'Basic realm="allim-bridge"'  # the console's: a browser then asks for a user name and password
WRONG_TOKEN = "missing or wrong token (Authorization: Bearer <token>)"
READ_ONLY = (
    "actions are off: set BRIDGE_AUTH_TOKEN, or start the bridge with --web.console-actions (console_actions: true)"
)
CROSS_SITE = "refused: the request comes from another site's page"


def require_token(request: Request, token: Secret | None, reason: str = WRONG_TOKEN, key: str = "wrong_token") -> None:
    """Rejected(401) unless no token is configured or the request carries it."""
    if token is not None and not token.matches(request_token(request)):
        raise Rejected(401, reason, key=key)


def require_actions(allowed: bool) -> None:
    """Rejected(403) with how to switch actions on, when they are off."""
    if not allowed:
        raise Rejected(403, READ_ONLY, key="actions_off")


def require_same_origin(request: Request) -> None:
    """Rejected(403) for a request a browser made from another origin.

    `Sec-Fetch-Site` is set by the browser itself (every current one sends it) and survives any proxy, so it decides
    when present; otherwise an `Origin` must name the host the request was sent to (`Host`, or the proxy's
    `X-Forwarded-Host`)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise Rejected(403, CROSS_SITE, key="cross_site")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    hosts = {request.headers.get("host", ""), *request.headers.get("x-forwarded-host", "").split(",")}
    netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
    if not netloc or netloc not in {host.strip().lower() for host in hosts if host.strip()}:
        raise Rejected(403, CROSS_SITE, key="cross_site")


def _count_webhook(request: Request, status: int) -> None:
    state: BridgeState = request.app.state.bridge
    state.metrics.webhook_requests.labels(str(status)).inc()


def endpoint(handler: Handler, *, counted: bool = False, challenge: str = BEARER_CHALLENGE) -> Endpoint:
    """`handler(request, state)` behind the token, in the shared envelope (`allim.requests.envelope`): a Rejected
    becomes its one-line answer, a bug a logged 500; `counted` answers go to allim_bridge_webhook_requests_total."""

    async def guarded(request: Request) -> Response:
        state: BridgeState = request.app.state.bridge
        require_token(request, state.config.auth_token)
        return await handler(request, state)

    return envelope(guarded, log=log, count=_count_webhook if counted else None, challenge=challenge)
