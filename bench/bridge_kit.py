"""What bench/bridge.py's modes share: a Discord webhook imitation, bursts of webhooks, bridge processes on 127.0.0.1.

The imitation answers at once (or after `latency`) and counts what it accepts. With a limit it also behaves like a
Discord webhook bucket: `limit` requests per fixed window of `window` seconds (the window starts with the first
request after the last one ended and refills whole when it ends), `X-RateLimit-Limit`, `-Remaining` and
`-Reset-After` on every answer, and 429 with `retry_after` for a request the bucket has no room for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

from testkit.alertmanager import webhook
from testkit.processes import Process, free_port, python_module

TABLES = "notifications, deliveries, dedup, holds, group_state"
WEBHOOK_PATH = "/api/webhooks/1234/bench-token"


class Discord(BaseHTTPRequestHandler):
    """One webhook's endpoint; class attributes hold the switches and the counts (one imitation per process)."""

    received: list[float] = []  # monotonic time of every accepted message
    rate_limited = 0  # requests answered 429
    lock = threading.Lock()
    latency = 0.0  # seconds each request takes (Discord's own round trip is tens of milliseconds)
    limit = 0  # requests per window; 0: no bucket
    window = 1.0
    _remaining = 0
    _resets_at = 0.0

    @classmethod
    def limit_to(cls, limit: int, window: float) -> None:
        """From now on `limit` requests per `window` seconds (0: unlimited); the next request starts a window."""
        with cls.lock:
            cls.limit, cls.window, cls._resets_at = limit, window, 0.0

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.received.clear()
            cls.rate_limited = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        if Discord.latency:
            time.sleep(Discord.latency)
        status, body, headers = self._answer(time.monotonic())
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, now: float) -> tuple[int, dict[str, object], dict[str, str]]:
        with Discord.lock:
            if not Discord.limit:
                Discord.received.append(now)
                return 200, {"id": "1"}, {}
            if now >= Discord._resets_at:
                Discord._resets_at, Discord._remaining = now + Discord.window, Discord.limit
            reset_after = Discord._resets_at - now
            headers = {"X-RateLimit-Limit": str(Discord.limit), "X-RateLimit-Reset-After": f"{reset_after:.3f}"}
            if Discord._remaining == 0:
                Discord.rate_limited += 1
                limited = {"message": "You are being rate limited.", "retry_after": round(reset_after, 3)}
                return 429, {**limited, "global": False}, {**headers, "X-RateLimit-Remaining": "0"}
            Discord._remaining -= 1
            Discord.received.append(now)
            return 200, {"id": "1"}, {**headers, "X-RateLimit-Remaining": str(Discord._remaining)}

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def discord_imitation() -> Iterator[str]:
    """The imitation served on a free port; its webhook URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discord)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}"
    finally:
        server.shutdown()


async def burst(urls: list[str], count: int, rate: float, offset: int) -> list[float]:
    """`count` distinct webhooks at `rate` per second, round robin over `urls`; the ack latencies (seconds)."""
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(n: int) -> None:
            started = time.perf_counter()
            response = await client.post(urls[n % len(urls)], json=webhook(offset + n))
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text

        tasks = []
        start = time.perf_counter()
        for n in range(count):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def empty_tables(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('deliveries')").fetchone()
        if exists and exists[0]:
            conn.execute(f"TRUNCATE {TABLES}")


class Bridges:
    """`replicas` bridge processes on one store (`database`: a PostgreSQL URL, else SQLite in `data_dir`), all posting
    to `discord_url`; `urls` are their webhook endpoints once `wait_ready()` returned."""

    def __init__(
        self, discord_url: str, database: str | None, replicas: int, data_dir: Path, max_pending: int = 10_000
    ) -> None:
        config = data_dir / "bridge.yml"
        config.write_text(json.dumps({"outbox": {"max_pending": max_pending}}))
        self.processes, self.base_urls = [], []
        for i in range(replicas):
            port = free_port()
            env = {"BRIDGE_DATA_DIR": str(data_dir), "DISCORD_WEBHOOK_URL": discord_url}
            env |= {"BRIDGE_AUTH_TOKEN": "", "EMAIL_TO": ""} | ({"BRIDGE_DATABASE_URL": database} if database else {})
            args = python_module("bridge", "--web.listen-address", f"127.0.0.1:{port}", "--config.file", str(config))
            self.processes.append(Process([*args, "--log.level", "warn"], data_dir / f"bridge{i}.log", env))
            self.base_urls.append(f"http://127.0.0.1:{port}")

    @property
    def urls(self) -> list[str]:
        return [f"{base}/alertmanager/default" for base in self.base_urls]

    def wait_ready(self) -> None:
        for process, url in zip(self.processes, self.base_urls, strict=True):
            process.wait_http(f"{url}/readyz", timeout=120)

    def rss(self) -> float:
        """MiB, per bridge."""
        return sum(psutil.Process(p.pid).memory_info().rss for p in self.processes) / len(self.processes) / 2**20

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@contextlib.contextmanager
def bridges(
    discord_url: str,
    database: str | None,
    replicas: int,
    max_pending: int = 10_000,
    prepare: Callable[[Path], None] | None = None,
) -> Iterator[Bridges]:
    """Bridges in a temporary data directory (given to `prepare` first), ready; stopped on the way out."""
    with tempfile.TemporaryDirectory() as tmp:
        if prepare is not None:
            prepare(Path(tmp))
        running = Bridges(discord_url, database, replicas, Path(tmp), max_pending)
        try:
            running.wait_ready()
            yield running
        finally:
            running.stop()
