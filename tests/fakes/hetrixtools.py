"""A HetrixTools API v3 imitation on 127.0.0.1: `GET /v3/uptime-monitors` as apis.md §2 documents it.

Quirks served: `uptime` as a string for odd monitors, `locations` as an array for every fourth, heartbeat
monitors with `target: null`, paused / maintenance / down monitors. Every answer carries the six `ratelimit-*`
headers. Switches: `rate_limited` (429), `fail_status` (e.g. 500/503), `delay` (slow answers), `garbage`
(a non-JSON 200), `hold` (answers wait until it is set). `requests` logs every call.

Standalone, for the benchmark:  python -m tests.fakes.hetrixtools --port 9100 --monitors 2000 --locations 5
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testkit.servers import ThreadedServer

LOCATIONS = (
    "new_york",
    "san_francisco",
    "dallas",
    "amsterdam",
    "london",
    "frankfurt",
    "singapore",
    "sydney",
    "sao_paulo",
    "tokyo",
    "mumbai",
    "warsaw",
)
TYPES = ("website", "ping", "service", "smtp", "website")
API_KEY = "fake-hetrix-api-key"
BASE_TIME = 1_760_000_000


def build_monitors(n: int, locations: int = 3) -> list[dict[str, Any]]:
    """`n` monitors as the list endpoint returns them, each checked from the first `locations` locations.

    Every 7th is down, every 10th paused, every 13th in maintenance, every 50th a heartbeat (no target, no
    locations); odd ones carry `uptime` as a string; every 4th has `locations` as an array.
    """
    monitors = []
    for i in range(n):
        heartbeat = i % 50 == 49
        monitor_type = "heartbeat" if heartbeat else TYPES[i % len(TYPES)]
        status = "paused" if i % 10 == 9 else "maint" if i % 13 == 12 else "active"
        uptime = round(100 - (i % 17) * 0.0123, 4)
        checked = {
            loc: {"uptime_status": "up", "response_time": 50 + (i * 7 + j * 31) % 900, "last_check": BASE_TIME + j}
            for j, loc in enumerate(LOCATIONS[:locations])
        }
        if heartbeat:
            checked = {}
        monitor: dict[str, Any] = {
            "id": hashlib.md5(f"monitor-{i}".encode()).hexdigest(),
            "name": f"Monitor {i}",
            "type": monitor_type,
            "target": None if heartbeat else f"https://site{i}.example.com/",
            "resolve_address": None,
            "port": 443 if monitor_type == "service" else None,
            "keyword": "",
            "category": "Fake",
            "timeout": 10,
            "check_frequency": 1,
            "contact_lists": [],
            "created_at": BASE_TIME - 86400,
            "last_check": BASE_TIME + 60 + i,
            "last_status_change": BASE_TIME - 3600,
            "uptime_status": "down" if i % 7 == 6 else "up",
            "monitor_status": status,
            "uptime": str(uptime) if i % 2 else uptime,
            "uptime_incl_maint": str(uptime) if i % 2 else uptime,
            "locations": [{"location": k, **v} for k, v in checked.items()] if i % 4 == 3 else checked,
            "ssl_expiration_date": None,
            "domain_expiration_date": None,
            "number_of_tries": 3,
            "triggering_locations": 2,
            "agent_id": None,
        }
        monitors.append(monitor)
    return monitors


def webhook_payload(monitor: dict[str, Any], online: bool, timestamp: int = BASE_TIME + 120) -> dict[str, Any]:
    """The body a contact-list webhook sends for `monitor` (apis.md §2.4)."""
    port = monitor.get("port")
    monitor_type = monitor["type"] + (str(port) if monitor["type"] in ("service", "smtp") and port else "")
    return {
        "monitor_id": monitor["id"],
        "monitor_name": monitor["name"],
        "monitor_target": monitor["target"] or "",
        "monitor_type": monitor_type,
        "monitor_category": monitor.get("category", ""),
        "monitor_status": "online" if online else "offline",
        "timestamp": timestamp,
        "monitor_errors": {} if online else {"New York": "timeout", "London": "http code 503"},
    }


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": code, "message": message}, status_code=status, headers=headers)


class FakeHetrixTools:
    """The fake's state and switches; `app` is the Starlette app, `serve()` runs it on a free port."""

    def __init__(
        self,
        monitors: list[dict[str, Any]] | None = None,
        api_key: str = API_KEY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.monitors = build_monitors(12) if monitors is None else monitors
        self.api_key = api_key
        self.clock = clock
        self.requests: list[dict[str, Any]] = []
        self.rate_limited = False
        self.fail_status: int | None = None
        self.delay = 0.0
        self.garbage = False
        self.hold = threading.Event()
        self.hold.set()
        self.limit_user = 200
        self.limit_endpoint = 100
        self.reset_at: float | None = None  # fixed reset time for the headers; default: the next full minute
        self._window: tuple[float, int] = (0.0, 0)
        self.url = ""  # set by serve()
        self.app = Starlette(
            routes=[
                Route("/v3/uptime-monitors", self.list_monitors),
                Route("/v3/uptime-monitors/{monitor_id}/report", self.report),
            ]
        )

    def serve(self, host: str = "127.0.0.1") -> ThreadedServer:
        """A server on `host` for `with`; `self.url` is its base URL."""
        server = ThreadedServer(self.app, host)
        self.url = server.url
        return server

    def calls(self, path: str = "/v3/uptime-monitors") -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def rate_headers(self, exhausted: bool = False) -> dict[str, str]:
        now = self.clock()
        reset = self.reset_at if self.reset_at is not None else (math.floor(now / 60) + 1) * 60
        window, used = self._window
        used = used + 1 if window == reset else 1
        self._window = (reset, used)
        user_left = 0 if exhausted else max(0, self.limit_user - used)
        endpoint_left = 0 if exhausted else max(0, self.limit_endpoint - used)
        return {
            "ratelimit-limit-user": str(self.limit_user),
            "ratelimit-remaining-user": str(user_left),
            "ratelimit-reset-user": str(int(reset)),
            "ratelimit-limit-endpoint": str(self.limit_endpoint),
            "ratelimit-remaining-endpoint": str(endpoint_left),
            "ratelimit-reset-endpoint": str(int(reset)),
        }

    async def gate(self, request: Request) -> Response | None:
        """Log the call and apply the switches; a response when the call must not get data."""
        authorized = request.headers.get("authorization", "") == f"Bearer {self.api_key}"
        self.requests.append({"path": request.url.path, "params": dict(request.query_params), "auth": authorized})
        while not self.hold.is_set():
            await asyncio.sleep(0.01)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not authorized:
            return error(401, "unauthorized", "invalid authorization")
        if self.rate_limited:
            return error(429, "too_many_requests", "user api rate limit exceeded", self.rate_headers(True))
        if self.fail_status == 503:
            return error(503, "service_unavailable", "temporary server error, please retry", self.rate_headers())
        if self.fail_status:
            return error(self.fail_status, "internal_server_error", "unexpected error occurred", self.rate_headers())
        if self.garbage:
            return Response("<html><body>502 Bad Gateway</body></html>", media_type="text/html")
        return None

    async def list_monitors(self, request: Request) -> Response:
        refused = await self.gate(request)
        if refused is not None:
            return refused
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", "20"))
        except ValueError:
            return error(400, "bad_request", "invalid pagination parameters")
        if not 1 <= page <= 10000 or not 1 <= per_page <= 200:
            return error(400, "bad_request", "per_page must be 1-200 and page 1-10000")
        wanted = request.query_params.get("id")
        selected = [m for m in self.monitors if m["id"] == wanted] if wanted else self.monitors
        last = max(1, math.ceil(len(selected) / per_page))
        chunk = selected[(page - 1) * per_page : page * per_page]
        body = {
            "monitors": chunk,
            "meta": {
                "total": len(self.monitors),
                "total_filtered": len(selected),
                "returned": len(chunk),
                "pagination": {
                    "current": page,
                    "last": last,
                    "previous": page - 1 if page > 1 else None,
                    "next": page + 1 if page < last else None,
                },
            },
        }
        return JSONResponse(body, headers=self.rate_headers())

    async def report(self, request: Request) -> Response:
        refused = await self.gate(request)
        if refused is not None:
            return refused
        monitor = next((m for m in self.monitors if m["id"] == request.path_params["monitor_id"]), None)
        if monitor is None:
            return error(404, "not_found", "uptime monitor not found")
        uptime = float(monitor["uptime"])
        summary = {
            "uptime": {"percentage": uptime, "percentage_incl_maint": uptime, "downtimes": 0, "downtimes_incl_maint": 0}
        }
        return JSONResponse({"timezone": "UTC+00:00", "data": {}, "summary": summary}, headers=self.rate_headers())


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="HetrixTools API v3 fake on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--monitors", type=int, default=12)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--api-key", default=API_KEY)
    args = parser.parse_args()
    fake = FakeHetrixTools(build_monitors(args.monitors, args.locations), api_key=args.api_key)
    fake.limit_user = fake.limit_endpoint = 10**9  # the benchmark polls often: never run out
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
