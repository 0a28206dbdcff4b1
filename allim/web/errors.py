"""The router's own answers (an unknown path, a method a route does not take) in the service's language.

Starlette answers these with a bare English "Not Found" / "Method Not Allowed". A person who mistypes a console or
status-page address in a browser gets a sentence in the language the service speaks (`language`/ALLIM_LANGUAGE);
a script (no `text/html` in Accept) keeps the English reason, as every JSON API answer of allim does. An
HTTPException an endpoint raises with its own detail is answered with that detail, unchanged.
"""

from __future__ import annotations

import http
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]

REASONS: Mapping[int, Mapping[str, str]] = {
    404: {"en": "Not found: {path}", "ko": "없는 주소입니다: {path}"},
    405: {"en": "{path} does not take {method} requests", "ko": "{path}에는 {method} 요청을 보낼 수 없습니다"},
}


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def router_error_handlers(language: str) -> dict[int, ErrorHandler]:
    """Starlette `exception_handlers` for 404 and 405: a one-line plain-text reason, the Allow header kept."""

    async def answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if exc.detail != http.HTTPStatus(exc.status_code).phrase:
            return PlainTextResponse(exc.detail, exc.status_code, headers=headers)
        reasons = REASONS[exc.status_code]
        template = reasons.get(language, reasons["en"]) if _wants_page(request) else reasons["en"]
        text = template.format(path=request.url.path, method=request.method)
        return PlainTextResponse(text + "\n", exc.status_code, headers={**headers, "X-Content-Type-Options": "nosniff"})

    return {status: answer for status in REASONS}
