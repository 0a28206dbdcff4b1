"""Bridge benchmark: bursts of Alertmanager webhooks against real bridge processes and a non-limiting Discord fake.

    .venv/bin/python bench/bridge.py [--count 1000] [--rate 100] [--repeat 3]
    .venv/bin/python bench/bridge.py --database postgresql://user:pw@127.0.0.1:5432/bench [--replicas 2]
    .venv/bin/python bench/bridge.py --database ... --count 300 --discord-latency 0.05   # delivery throughput

Without --database it measures the embedded SQLite outbox. With it, one invocation measures side by side
(interleaved, `--repeat` rounds, medians printed): SQLite, PostgreSQL with one replica, and PostgreSQL with
`--replicas` replicas (webhooks spread round robin over them, as a load balancer would). Each PostgreSQL
run empties the bridge's tables first, so point it at a database you can throw away.

Per run: ack latency p50/p99, deliveries per second reaching the fake (from the first ack to the last
delivery), and the bridges' RSS. Targets: ack p99 under 50 ms at 100 webhooks/s on 2 cores; two replicas
deliver at least as fast as one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.alertmanager import webhook  # noqa: E402
from testkit.processes import Process, free_port, python_module  # noqa: E402

TABLES = "notifications, deliveries, dedup, holds, group_state"


class Discord(BaseHTTPRequestHandler):
    """Accepts every message at once (no rate limit) and counts it."""

    received: list[float] = []
    lock = threading.Lock()
    latency = 0.0  # seconds each request takes (Discord's own round trip is tens of milliseconds)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        if Discord.latency:
            time.sleep(Discord.latency)
        with Discord.lock:
            Discord.received.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "11")
        self.end_headers()
        self.wfile.write(b'{"id": "1"}')

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Result:
    p50: float  # ms
    p99: float  # ms
    rate: float  # deliveries per second
    rss: float  # MiB, per bridge


async def burst(urls: list[str], count: int, rate: float, offset: int) -> list[float]:
    """`count` distinct webhooks at `rate` per second, round robin over `urls`; the ack latencies."""
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


def empty_tables(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('deliveries')").fetchone()
        if exists and exists[0]:
            conn.execute(f"TRUNCATE {TABLES}")


def run(discord_url: str, count: int, rate: float, database: str | None, replicas: int, offset: int) -> Result:
    if database:
        empty_tables(database)
    with tempfile.TemporaryDirectory() as tmp:
        bridges, urls = [], []
        for i in range(replicas):
            port = free_port()
            env = {"BRIDGE_DATA_DIR": tmp, "DISCORD_WEBHOOK_URL": discord_url, "BRIDGE_AUTH_TOKEN": "", "EMAIL_TO": ""}
            if database:
                env["BRIDGE_DATABASE_URL"] = database
            args = python_module("bridge", "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn")
            bridges.append(Process(args, Path(tmp) / f"bridge{i}.log", env))
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for bridge, url in zip(bridges, urls, strict=True):
                bridge.wait_http(f"{url}/readyz")
            Discord.received.clear()
            started = time.monotonic()
            latencies = asyncio.run(burst([f"{u}/alertmanager/default" for u in urls], count, rate, offset))
            while len(Discord.received) < count and time.monotonic() - started < 120:
                time.sleep(0.05)
            rss = sum(psutil.Process(b.pid).memory_info().rss for b in bridges) / len(bridges)
        finally:
            for bridge in bridges:
                bridge.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    elapsed = (Discord.received[-1] - started) if Discord.received else float("nan")
    return Result(statistics.median(latencies) * 1000, p99 * 1000, len(Discord.received) / elapsed, rss / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="webhooks per run (default 1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every setup (default 3)")
    parser.add_argument("--database", help="a PostgreSQL URL to measure beside SQLite (its tables are emptied)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of the last PostgreSQL setup (default 2)")
    parser.add_argument(
        "--discord-latency",
        type=float,
        default=0.0,
        help="seconds the fake takes per message (default 0); with a latency, delivery rather than the webhook rate"
        " bounds deliveries/s, which shows what more replicas add",
    )
    args = parser.parse_args()
    Discord.latency = args.discord_latency
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discord)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    discord_url = f"http://127.0.0.1:{server.server_address[1]}/api/webhooks/1/bench"
    setups: list[tuple[str, str | None, int]] = [("SQLite, 1 bridge", None, 1)]
    if args.database:
        setups += [("PostgreSQL, 1 replica", args.database, 1)]
        setups += [(f"PostgreSQL, {args.replicas} replicas", args.database, args.replicas)]
    results: dict[str, list[Result]] = {name: [] for name, _, _ in setups}
    try:
        for round_ in range(args.repeat):
            for index, (name, database, replicas) in enumerate(setups):  # interleaved: noise hits every setup
                offset = (round_ * len(setups) + index) * args.count  # distinct webhooks: no dedup across runs
                result = run(discord_url, args.count, args.rate, database, replicas, offset)
                results[name].append(result)
                print(f"round {round_ + 1}, {name}: {result}", file=sys.stderr, flush=True)
    finally:
        server.shutdown()
    latency = f", Discord fake {args.discord_latency * 1000:g} ms per message" if args.discord_latency else ""
    print(f"{args.count} webhooks per run at {args.rate:g}/s{latency}; median of {args.repeat} interleaved rounds")
    print("| store | ack p50 | ack p99 | deliveries/s | RSS per bridge |\n|---|---|---|---|---|")
    for name, runs in results.items():
        p50, p99 = statistics.median(r.p50 for r in runs), statistics.median(r.p99 for r in runs)
        rate, rss = statistics.median(r.rate for r in runs), statistics.median(r.rss for r in runs)
        print(f"| {name} | {p50:.1f} ms | {p99:.1f} ms | {rate:.0f} | {rss:.1f} MiB |")
    for name, runs in results.items():
        p99 = statistics.median(r.p99 for r in runs)
        rounds = [round(r.p99, 1) for r in runs]
        print(f"{name}: ack p99 < 50 ms {'met' if p99 < 50 else 'NOT met'} (p99 per round: {rounds})")


if __name__ == "__main__":
    main()
