"""Jinja2 pages in the services' shared look: the environment, the HTML answer, the stylesheet route."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from allim import __version__
from allim.web import humanize

STYLESHEET_PATH = "/static/allim.css"
# A page is HTML plus one stylesheet from its own origin: no script, no frame, no foreign resource, forms only
# to itself. Templates are autoescaped as well; this is the second wall should a value ever slip through.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # delivery state changes by the second, and pages may hold a form token
}


@jinja2.pass_context
def _ago(context: jinja2.runtime.Context, moment: float | None) -> str:
    return humanize.relative(moment, context["now"], context["lang"])


@jinja2.pass_context
def _when(context: jinja2.runtime.Context, moment: float | None) -> str:
    return humanize.timestamp(moment, context["zone"])


@jinja2.pass_context
def _duration(context: jinja2.runtime.Context, seconds: float | None) -> str:
    return "" if seconds is None else humanize.duration(seconds, context["lang"])


def environment(package: str) -> jinja2.Environment:
    """Templates of `package` (its `templates/` folder) over the shared ones (`base.html`), autoescaped.

    Every page is rendered with `lang`, `zone` (IANA name), `now` (unix time) and `base` (the relative way back to
    the app's root, so links work behind a proxy that mounts the app under a prefix); the filters `ago`, `when` and
    `duration` use them."""
    loader = jinja2.ChoiceLoader(
        [jinja2.PackageLoader(package, "templates"), jinja2.PackageLoader("allim.web", "templates")]
    )
    env = jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["version"] = __version__
    env.globals["stylesheet"] = STYLESHEET_PATH.lstrip("/")
    env.filters.update(ago=_ago, when=_when, duration=_duration)
    return env


def relative_base(request: Request) -> str:
    """`""` on the root page, `"../"` one level down: links relative to the app's root, wherever it is mounted."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return "../" * max(0, path.count("/") - 1)


def page(
    env: jinja2.Environment,
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    language: str = "en",
    zone: str = "UTC",
    status: int = 200,
    clock: Callable[[], float] = time.time,
) -> HTMLResponse:
    """`template` rendered with `context` (plus lang, zone, now, base) as an HTML answer that runs no script."""
    body = env.get_template(template).render(
        {**context, "lang": language, "zone": zone, "now": clock(), "base": relative_base(request)}
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def stylesheet_route() -> Route:
    """`GET /static/allim.css`: the shared stylesheet, read once from the installed package."""
    css = (resources.files("allim.web") / "static" / "allim.css").read_bytes()
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}

    async def stylesheet(request: Request) -> Response:
        return Response(css, media_type="text/css; charset=utf-8", headers=headers)

    return Route(STYLESHEET_PATH, stylesheet, methods=["GET", "HEAD"])
