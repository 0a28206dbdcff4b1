"""Thin I/O against the Sentry REST API (`/api/0/`): auth, rate-limit headers, cursor pagination, fetches.

Every call goes through the shared `Upstream` client (exporter/sources/upstream.py), which checks the rate-limit
gate first and applies the one back-off policy to what `allowance_from_headers` reads: the
`X-Sentry-Rate-Limit-Remaining` of every answer and, on a 429, `X-Sentry-Rate-Limit-Reset` (apis.md §1.6).
Nothing here retries: a failed call fails the poll, and the scheduler tries again on the next interval.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from allim.numbers import as_number
from allim.secret import Secret
from exporter.sources.upstream import Allowance, RateLimitGate, SourceError, Upstream, parse_json, raise_for_status

log = logging.getLogger("exporter.sources.sentry")

PAGE_SIZE = 100  # the maximum the list endpoints accept

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[A-Za-z_]+\s*=\s*\"[^\"]*\")*)")
_LINK_PARAM = re.compile(r"([A-Za-z_]+)\s*=\s*\"([^\"]*)\"")


def next_cursor(link_header: str | None) -> str | None:
    """The cursor of the `rel="next"` link when it says `results="true"`, else None (the last page)."""
    for match in _LINK.finditer(link_header or ""):
        params = dict(_LINK_PARAM.findall(match.group(2)))
        if params.get("rel") == "next":
            return params.get("cursor") if params.get("results") == "true" and params.get("cursor") else None
    return None


def allowance_from_headers(response: httpx.Response, now: float) -> Allowance:
    """What is left (every answer), and when to come back: the window's reset (UTC epoch seconds), read only on a
    429, since Sentry's windows are short and only a refusal is worth waiting for."""
    remaining = as_number(response.headers.get("X-Sentry-Rate-Limit-Remaining"))
    reset = as_number(response.headers.get("X-Sentry-Rate-Limit-Reset")) if response.status_code == 429 else None
    return Allowance(remaining=remaining, reset_at=reset)


@dataclass
class Pages:
    """The rows of a paginated listing, and whether the page cap stopped it before the end."""

    rows: list[Any] = field(default_factory=list)
    capped: bool = False


class SentryApi:
    """One organisation's API: the shared upstream client (base URL, bearer token, gate) and the page cap."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        org: str,
        token: Secret,
        gate: RateLimitGate,
        max_pages: int,
        timeout: float,
    ) -> None:
        self.upstream = Upstream(
            client, base_url=base_url, gate=gate, read_allowance=allowance_from_headers, token=token, timeout=timeout
        )
        self.org = org
        self.gate = gate
        self.max_pages = max_pages

    def org_path(self, endpoint: str) -> str:
        return f"/api/0/organizations/{self.org}/{endpoint}/"

    async def get(self, path: str, params: list[tuple[str, str]], what: str) -> httpx.Response:
        """One GET; a SourceError (never naming the token) for a deferred gate, a 429 or any non-2xx."""
        response = await self.upstream.request("GET", path, params=params)
        if response.status_code == 429:
            log.warning("sentry rate limit hit", extra={"retry_in": round(self.gate.not_before - self.gate.clock())})
        raise_for_status(response, what)
        return response

    async def get_json(self, path: str, params: list[tuple[str, str]], what: str) -> Any:
        return parse_json(await self.get(path, params, what), what)

    async def get_pages(self, path: str, params: list[tuple[str, str]], what: str) -> Pages:
        """Every page of a list endpoint, following the `next` cursor while it has results, up to the page cap.

        Only the cursor is taken from the `Link` header, never its URL: the token goes to the configured base only.
        """
        pages = Pages()
        cursor: str | None = None
        for _ in range(self.max_pages):
            response = await self.get(path, params + ([("cursor", cursor)] if cursor else []), what)
            body = parse_json(response, what)
            pages.rows.extend(_rows(body, what))
            cursor = next_cursor(response.headers.get("link"))
            if cursor is None:
                return pages
        pages.capped = True
        log.warning("sentry page cap reached", extra={"endpoint": what, "max_pages": self.max_pages})
        return pages


def _rows(body: Any, what: str) -> list[Any]:
    """A page's rows: list endpoints answer a bare array, `/events/` an object with `data`."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    raise SourceError("parse", f"{what}: expected a list of rows, got {type(body).__name__}")


# -- one fetch per endpoint ----------------------------------------------------------------------
async def fetch_projects(api: SentryApi) -> Pages:
    """`GET /organizations/{org}/projects/`: every project (id as a string, slug)."""
    return await api.get_pages(api.org_path("projects"), [("per_page", str(PAGE_SIZE))], "projects")


async def fetch_error_stats(api: SentryApi, period: str, interval: str, project_ids: list[str]) -> Any:
    """`GET /organizations/{org}/stats_v2/`: accepted error events in the window, one group per project."""
    params = [
        ("field", "sum(quantity)"),
        ("category", "error"),
        ("outcome", "accepted"),
        ("groupBy", "project"),
        ("statsPeriod", period),
        ("interval", interval),
    ]
    params += [("project", pid) for pid in project_ids or ["-1"]]
    return await api.get_json(api.org_path("stats_v2"), params, "stats_v2")


async def fetch_issues(api: SentryApi, query: str, period: str, project_ids: list[str], what: str) -> Pages:
    """`GET /organizations/{org}/issues/` for a search query, newest first, every page up to the cap."""
    params = [
        ("query", query),
        ("sort", "new"),
        ("statsPeriod", period),
        ("limit", str(PAGE_SIZE)),
        ("collapse", "stats"),
        ("collapse", "lifetime"),
    ]
    params += [("project", pid) for pid in project_ids or ["-1"]]
    return await api.get_pages(api.org_path("issues"), params, what)


async def fetch_slow_transactions(
    api: SentryApi, dataset: str, query: str, period: str, project_ids: list[str]
) -> Pages:
    """`GET /organizations/{org}/events/`: a Discover count of slow transactions per project."""
    params = [
        ("dataset", dataset),
        ("field", "project"),
        ("field", "count()"),
        ("query", query),
        ("statsPeriod", period),
        ("per_page", str(PAGE_SIZE)),
    ]
    params += [("project", pid) for pid in project_ids or ["-1"]]
    return await api.get_pages(api.org_path("events"), params, "events")
