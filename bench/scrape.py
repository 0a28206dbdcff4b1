#!/usr/bin/env python3
"""Scrape benchmark: the allim exporter against node_exporter, side by side in one run.

Starts `python -m exporter` (host source on defaults) and, when installed, Debian's
`prometheus-node-exporter --no-collector.systemd`; scrapes them alternately N times per round for
R rounds, and prints for each: series count, p50/p99 scrape latency and RSS, then the ratios.
Figures are medians over the rounds. Extra exporter environment (e.g. a source pointed at a fake)
can be given with --env KEY=VALUE; bench/README or `--help` for the options.

    .venv/bin/python bench/scrape.py --scrapes 300 --rounds 3
    .venv/bin/python bench/scrape.py --hetrixtools 2000   # + the HetrixTools fake: 2,000 monitors x 5 locations
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.processes import Process, free_port, python_module  # noqa: E402
from testkit.waiting import wait_until  # noqa: E402

FAKE_HETRIX_KEY = "bench-hetrix-key"


@dataclass
class Target:
    name: str
    url: str
    process: Process
    latencies: list[list[float]] = field(default_factory=list)  # one list per round, seconds
    series: int = 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def count_series(body: str) -> int:
    return sum(1 for line in body.splitlines() if line and not line.startswith("#"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scrape_once(url: str, gzip: bool) -> float:
    """One scrape on a fresh connection, as curl does; seconds until the whole body is read.

    http.client keeps the client's own overhead small and equal for both targets."""
    parts = urlsplit(url)
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", parts.path, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{url}: HTTP {response.status}")
    return elapsed


def start_targets(tmp: Path, env: dict[str, str], exporter_config: str | None) -> list[Target]:
    targets = []
    port = free_port()
    args = ["--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn"]
    if exporter_config:
        args += ["--config.file", exporter_config]
    exporter = Process(python_module("exporter", *args), tmp / "exporter.log", env)
    targets.append(Target("allim", f"http://127.0.0.1:{port}/metrics", exporter))
    exporter.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120)
    node_bin = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if node_bin:
        port = free_port()
        node = Process(
            [node_bin, f"--web.listen-address=127.0.0.1:{port}", "--no-collector.systemd", "--log.level=warn"],
            tmp / "node.log",
        )
        targets.append(Target("node_exporter", f"http://127.0.0.1:{port}/metrics", node))
        node.wait_http(targets[-1].url)
    else:
        print("prometheus-node-exporter is not installed: measuring allim alone", file=sys.stderr)
    return targets


def start_hetrixtools_fake(tmp: Path, monitors: int, locations: int) -> tuple[Process, dict[str, str]]:
    """The HetrixTools fake as its own process, and the exporter environment that points the source at it."""
    port = free_port()
    args = ["--port", str(port), "--monitors", str(monitors), "--locations", str(locations)]
    fake = Process(python_module("tests.fakes.hetrixtools", *args, "--api-key", FAKE_HETRIX_KEY), tmp / "fake.log")
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {FAKE_HETRIX_KEY}"}

    def ready() -> bool:
        if not fake.alive():
            raise SystemExit(f"HetrixTools fake exited:\n{fake.log()}")
        return httpx.get(f"{url}/v3/uptime-monitors", headers=auth, timeout=2).status_code == 200

    wait_until(ready, timeout=30, what="the HetrixTools fake")
    return fake, {"HETRIXTOOLS_API_KEY": FAKE_HETRIX_KEY, "HETRIXTOOLS_API_BASE": url}


def run(
    scrapes: int,
    rounds: int,
    gzip: bool,
    env: dict[str, str],
    exporter_config: str | None,
    hetrixtools: tuple[int, int] = (0, 0),
) -> int:
    with tempfile.TemporaryDirectory(prefix="allim-bench-") as tmp_dir:
        fake = None
        if hetrixtools[0]:
            fake, fake_env = start_hetrixtools_fake(Path(tmp_dir), *hetrixtools)
            env = {**fake_env, **env}
            print(f"HetrixTools fake: {hetrixtools[0]} monitors x {hetrixtools[1]} locations")
        try:
            targets = start_targets(Path(tmp_dir), env, exporter_config)
        except BaseException:
            if fake:
                fake.stop()
            raise
        try:
            for target in targets:
                target.series = count_series(httpx.get(target.url, headers={"Accept-Encoding": "identity"}).text)
                for _ in range(5):  # warm-up
                    scrape_once(target.url, gzip)
            for _ in range(rounds):
                for target in targets:
                    target.latencies.append([])
                for _ in range(scrapes):
                    for target in targets:
                        target.latencies[-1].append(scrape_once(target.url, gzip))
            report(targets, scrapes, rounds, gzip)
        finally:
            for target in targets:
                target.process.stop()
            if fake:
                fake.stop()
    return 0


def report(targets: list[Target], scrapes: int, rounds: int, gzip: bool) -> None:
    print(f"{scrapes} scrapes x {rounds} rounds, alternating, fresh connection each, gzip={gzip}; medians over rounds")
    print(f"{'target':<15}{'series':>8}{'p50 ms':>10}{'p99 ms':>10}{'RSS MB':>9}")
    figures = {}
    for t in targets:
        p50 = statistics.median(percentile(r, 0.50) for r in t.latencies) * 1000
        p99 = statistics.median(percentile(r, 0.99) for r in t.latencies) * 1000
        rss = rss_mb(t.process.pid)
        figures[t.name] = (p50, p99, rss)
        print(f"{t.name:<15}{t.series:>8}{p50:>10.2f}{p99:>10.2f}{rss:>9.1f}")
    if "node_exporter" in figures:
        a, n = figures["allim"], figures["node_exporter"]
        print(f"ratio allim/node_exporter: p50 {a[0] / n[0]:.2f}  p99 {a[1] / n[1]:.2f}  RSS {a[2] / n[2]:.2f}")
        print(f"allim p99 below node_exporter p99: {'yes' if a[1] < n[1] else 'NO'}")
    print(f"allim RSS under 60 MB: {'yes' if figures['allim'][2] < 60 else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scrapes", type=int, default=200, help="scrapes per target per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians over them (default 3)")
    parser.add_argument("--gzip", action="store_true", help="ask for gzip, as Prometheus does")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="exporter environment")
    parser.add_argument("--config", help="exporter config file")
    parser.add_argument(
        "--hetrixtools", type=int, default=0, metavar="MONITORS", help="also poll the HetrixTools fake with this many"
    )
    parser.add_argument("--hetrixtools-locations", type=int, default=5, help="locations per monitor (default 5)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    hetrixtools = (args.hetrixtools, args.hetrixtools_locations)
    return run(args.scrapes, args.rounds, args.gzip, env, args.config, hetrixtools)


if __name__ == "__main__":
    sys.exit(main())
