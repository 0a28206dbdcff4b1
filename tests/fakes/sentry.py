"""A fake Sentry API (`/api/0/`) on 127.0.0.1, serving the shapes and quirks of upstream/apis.md §1.

Endpoints: organizations/{org}/projects/, stats_v2/, issues/ and events/. Quirks kept on purpose:
issue `count` as a string, some `permalink: null`, stats_v2 `by.project` as an int while projects
have string ids, cursor pagination with both `Link` rels always present, all five
`X-Sentry-Rate-Limit-*` headers on every answer. Switches: `rate_limited_until` (429 with the reset
header), `fail_status` (any status), `delay` (slow answers), `garbage` (a body that is not JSON).
`requests` logs every call as (endpoint, query) so tests can count them.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testkit.servers import ThreadedServer

TOKEN = "fake-sentry-token"
ORG = "acme"
RATE_LIMIT = 40
_PERIOD = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def period_seconds(text: str) -> float | None:
    match = _PERIOD.match(text)
    return int(match.group(1)) * _UNIT[match.group(2)] if match else None


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def make_issue(
    issue_id: int,
    project: dict[str, str],
    *,
    level: str = "error",
    status: str = "unresolved",
    age: float = 86400,
    events: int = 1,
) -> dict[str, Any]:
    """An issue as the organization issues endpoint serializes it; every third one has `permalink: null`."""
    first_seen = iso(time.time() - age)
    return {
        "id": str(issue_id),
        "shortId": f"{project['slug'].upper()}-{issue_id}",
        "title": f"Example exception {issue_id}",
        "culprit": "app.main in handler",
        "permalink": None if issue_id % 3 == 0 else f"https://sentry.io/{ORG}/{project['slug']}/issues/{issue_id}/",
        "level": level,
        "status": status,
        "substatus": "new" if age < 3600 else "ongoing",
        "count": str(events),
        "userCount": 0,
        "firstSeen": first_seen,
        "lastSeen": iso(time.time() - 60),
        "project": {"id": project["id"], "name": project["name"], "slug": project["slug"], "platform": "python"},
        "issueCategory": "error",
        "isUnhandled": False,
        "assignedTo": None,
    }


@dataclass
class FakeSentryData:
    """What the fake serves; tests edit it between polls."""

    projects: list[dict[str, str]] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)  # project id (int, as stats_v2 sends it) -> accepted
    issues: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[tuple[str, float]] = field(default_factory=list)  # (project slug, duration in ms)

    def add_project(self, slug: str) -> dict[str, str]:
        project = {"id": str(len(self.projects) + 2), "slug": slug, "name": slug.title()}
        self.projects.append(project)
        return project


class FakeSentry:
    """The fake's data, switches and request log, and the Starlette app serving them."""

    def __init__(self) -> None:
        self.reset()
        self.app = Starlette(routes=[Route("/api/0/organizations/{org}/{endpoint}/", self.endpoint)])

    def reset(self) -> None:
        """Empty data, switches off, request log cleared (the app and its server stay)."""
        self.data = FakeSentryData()
        self.requests: list[tuple[str, QueryParams]] = []
        self.rate_limited_until: int | None = None
        self.fail_status: int | None = None
        self.delay = 0.0
        self.garbage = False
        self.remaining = RATE_LIMIT

    def calls(self, endpoint: str | None = None) -> int:
        return sum(1 for name, _ in self.requests if endpoint is None or name == endpoint)

    # -- HTTP ----------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        reset = self.rate_limited_until or int(time.time()) + 1
        return {
            "X-Sentry-Rate-Limit-Limit": str(RATE_LIMIT),
            "X-Sentry-Rate-Limit-Remaining": str(self.remaining),
            "X-Sentry-Rate-Limit-Reset": str(reset),
            "X-Sentry-Rate-Limit-ConcurrentLimit": "25",
            "X-Sentry-Rate-Limit-ConcurrentRemaining": "24",
        }

    def error(self, status: int, detail: str) -> Response:
        return JSONResponse({"detail": detail}, status_code=status, headers=self.headers())

    async def endpoint(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        self.requests.append((endpoint, request.query_params))
        self.remaining = max(0, self.remaining - 1)
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.error(401, "Invalid token")
        if self.rate_limited_until is not None:
            self.remaining = 0
            return self.error(
                429,
                f"You are attempting to use this endpoint too frequently. Limit is {RATE_LIMIT} requests in 1 seconds",
            )
        if self.fail_status is not None:
            return self.error(self.fail_status, "Internal Error")
        if self.garbage:
            return Response("<html>502 Bad Gateway</html>", media_type="application/json", headers=self.headers())
        if request.path_params["org"] != ORG:
            return self.error(404, "The requested resource does not exist")
        handler = {
            "projects": self.projects,
            "stats_v2": self.stats_v2,
            "issues": self.issues,
            "events": self.events,
        }.get(endpoint)
        if handler is None:
            return self.error(404, "The requested resource does not exist")
        return handler(request.query_params)

    def page(self, request_rows: list[Any], query: QueryParams, size_key: str, body: Any = None) -> Response:
        """One page of `request_rows` at the `cursor` offset, with Sentry's two-rel Link header."""
        size = min(int(query.get(size_key, 100)), 100)
        cursor = query.get("cursor", "0:0:0")
        offset = int(cursor.split(":")[1])
        rows = request_rows[offset : offset + size]
        base = "http://127.0.0.1/api/0/"
        more = offset + size < len(request_rows)
        prev_cursor, next_cursor = f"0:{max(0, offset - size)}:1", f"0:{offset + size}:0"
        link = (
            f'<{base}?&cursor={prev_cursor}>; rel="previous"; results="{str(offset > 0).lower()}"; '
            f'cursor="{prev_cursor}", '
            f'<{base}?&cursor={next_cursor}>; rel="next"; results="{str(more).lower()}"; cursor="{next_cursor}"'
        )
        content = rows if body is None else {**body, "data": rows}
        return JSONResponse(content, headers={**self.headers(), "Link": link})

    def projects(self, query: QueryParams) -> Response:
        return self.page(self.data.projects, query, "per_page")

    def selected_ids(self, query: QueryParams) -> set[str] | None:
        ids = query.getlist("project")
        return None if not ids or "-1" in ids else set(ids)

    def stats_v2(self, query: QueryParams) -> Response:
        if query.get("field") not in ("sum(quantity)", "sum(times_seen)"):
            return self.error(400, "field is required")
        if period_seconds(query.get("statsPeriod", "")) is None:
            return self.error(400, "Invalid statsPeriod")
        if "project" not in query.getlist("groupBy") or query.get("category") != "error":
            return self.error(400, "this fake only groups errors by project")
        ids = self.selected_ids(query)
        groups = [
            {"by": {"project": pid}, "totals": {"sum(quantity)": count}, "series": {"sum(quantity)": [count]}}
            for pid, count in self.data.errors.items()
            if ids is None or str(pid) in ids
        ]
        now = time.time()
        return JSONResponse(
            {"start": iso(now - 3600), "end": iso(now), "intervals": [iso(now - 3600)], "groups": groups},
            headers=self.headers(),
        )

    def issues(self, query: QueryParams) -> Response:
        ids = self.selected_ids(query)
        rows = [i for i in self.data.issues if ids is None or i["project"]["id"] in ids]
        for term in query.get("query", "is:unresolved").split():
            if term == "is:unresolved":
                rows = [i for i in rows if i["status"] == "unresolved"]
            elif term.startswith("firstSeen:-"):
                seconds = period_seconds(term.removeprefix("firstSeen:-"))
                if seconds is None:
                    return self.error(400, f"Invalid search term {term}")
                cutoff = iso(time.time() - seconds)
                rows = [i for i in rows if i["firstSeen"] >= cutoff]
        if query.get("sort") == "new":
            rows.sort(key=lambda i: i["firstSeen"], reverse=True)
        return self.page(rows, query, "limit")

    def events(self, query: QueryParams) -> Response:
        fields = query.getlist("field")
        if "count()" not in fields or "project" not in fields:
            return self.error(400, "this fake needs field=project and field=count()")
        text = query.get("query", "")
        pattern = {
            "spans": r"is_transaction:true span\.duration:>(\d+)",
            "transactions": r"transaction\.duration:>(\d+)",
        }
        match = re.search(pattern.get(query.get("dataset", ""), "^$"), text)
        if match is None:
            return self.error(400, f"Invalid query for dataset {query.get('dataset')!r}")
        threshold = int(match.group(1))
        counts: dict[str, int] = {}
        for slug, duration in self.data.transactions:
            if duration > threshold:
                counts[slug] = counts.get(slug, 0) + 1
        rows = [{"project": slug, "count()": count} for slug, count in sorted(counts.items())]
        meta = {"meta": {"fields": {"project": "string", "count()": "integer"}, "units": {}}}
        return self.page(rows, query, "per_page", body=meta)


def serve_fake() -> tuple[FakeSentry, ThreadedServer]:
    fake = FakeSentry()
    return fake, ThreadedServer(fake.app)
