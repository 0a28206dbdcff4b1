"""Bridge benchmark: a burst of Alertmanager webhooks against a real bridge process and a non-limiting Discord fake.

    .venv/bin/python bench/bridge.py [--count 1000] [--rate 100]

Prints the ack latency (p50/p99), how many deliveries per second reached the fake, and the bridge's RSS.
Target (issue 5): ack p99 under 50 ms at 100 webhooks/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.alertmanager import webhook  # noqa: E402
from testkit.processes import Process, free_port, python_module  # noqa: E402


class Discord(BaseHTTPRequestHandler):
    """Accepts every message at once (no rate limit) and counts it."""

    received: list[float] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        Discord.received.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "11")
        self.end_headers()
        self.wfile.write(b'{"id": "1"}')

    def log_message(self, *args: object) -> None:
        pass


async def burst(url: str, count: int, rate: float) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=10) as client:

        async def one(n: int) -> None:
            started = time.perf_counter()
            response = await client.post(url, json=webhook(n))
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discord)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "BRIDGE_DATA_DIR": tmp,
            "DISCORD_WEBHOOK_URL": f"http://127.0.0.1:{server.server_address[1]}/api/webhooks/1/bench",
            "BRIDGE_AUTH_TOKEN": "",
        }
        bridge = Process(
            python_module("bridge", "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn"),
            Path(tmp) / "bridge.log",
            env,
        )
        try:
            bridge.wait_http(f"http://127.0.0.1:{port}/readyz")
            started = time.monotonic()
            latencies = asyncio.run(burst(f"http://127.0.0.1:{port}/alertmanager/default", args.count, args.rate))
            while len(Discord.received) < args.count and time.monotonic() - started < 120:
                time.sleep(0.05)
            rss = psutil.Process(bridge.pid).memory_info().rss
        finally:
            bridge.stop()
            server.shutdown()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    elapsed = (Discord.received[-1] - started) if Discord.received else float("nan")
    print(f"webhooks: {args.count} at {args.rate:g}/s")
    print(f"ack latency: p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(f"deliveries: {len(Discord.received)} in {elapsed:.2f} s = {len(Discord.received) / elapsed:.0f}/s")
    print(f"bridge RSS: {rss / 2**20:.1f} MiB")
    print(f"target ack p99 < 50 ms: {'met' if p99 < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
