"""Bridge benchmark: bursts of Alertmanager webhooks against real bridge processes and a Discord imitation.

    .venv/bin/python bench/bridge.py [--count 1000] [--rate 100] [--repeat 3]
    .venv/bin/python bench/bridge.py --database postgresql://user:pw@127.0.0.1:5432/bench [--replicas 2]
    .venv/bin/python bench/bridge.py --postgres --count 300 --discord-latency 0.05   # delivery throughput
    .venv/bin/python bench/bridge.py --postgres --backlog 0,1000,10000,50000         # the backlog table

Without --database it measures the embedded SQLite outbox. With it (or --postgres: a throw-away PostgreSQL 15
cluster started here from tests/postgres.py, fsync on), one invocation measures side by side (interleaved,
`--repeat` rounds, medians printed): SQLite, PostgreSQL with one replica, and PostgreSQL with `--replicas`
replicas (webhooks spread round robin over them, as a load balancer would). Each PostgreSQL run empties the
bridge's tables first, so point --database at a database you can throw away.

Burst mode (the default), per run: ack latency p50/p99, deliveries per second reaching the imitation (from the
first ack to the last delivery), and the bridges' RSS; the imitation answers at once (or after
--discord-latency). Targets: ack p99 under 50 ms at 100 webhooks/s on 2 cores; two replicas deliver at least as
fast as one.

Backlog mode (--backlog N,N,...; bench/bridge_backlog.py), per run: N deliveries already pending while the
imitation rate-limits like Discord (5 requests per 2 s), ack p50/p99 of --count webhooks at --rate; in the runs
with --drain pending, the time to deliver that many once Discord recovers to --recovered, and the 429s. Targets
(issue 19): with 10,000 pending, ack p50 <= 5 ms and p99 <= 25 ms; p99 at 50,000 pending within 1.5x of p99 at
none; the drain at the bucket's rate with no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bridge_backlog  # noqa: E402
from bridge_kit import Discord, bridges, burst, discord_imitation, empty_tables, median, percentile  # noqa: E402


@dataclass
class Result:
    p50: float  # ms
    p99: float  # ms
    rate: float  # deliveries per second
    rss: float  # MiB, per bridge


def run(discord_url: str, count: int, rate: float, database: str | None, replicas: int, offset: int) -> Result:
    if database:
        empty_tables(database)
    with bridges(discord_url, database, replicas) as running:
        Discord.reset()
        started = time.monotonic()
        latencies = asyncio.run(burst(running.urls, count, rate, offset))
        while len(Discord.received) < count and time.monotonic() - started < 120:
            time.sleep(0.05)
        rss = running.rss()
    elapsed = (Discord.received[-1] - started) if Discord.received else float("nan")
    return Result(median(latencies) * 1000, percentile(latencies, 0.99) * 1000, len(Discord.received) / elapsed, rss)


def bursts(discord_url: str, setups: list[tuple[str, str | None, int]], args: argparse.Namespace) -> None:
    results: dict[str, list[Result]] = {name: [] for name, _, _ in setups}
    for round_ in range(args.repeat):
        for index, (name, database, replicas) in enumerate(setups):  # interleaved: noise hits every setup
            offset = (round_ * len(setups) + index) * args.count  # distinct webhooks: no dedup across runs
            result = run(discord_url, args.count, args.rate, database, replicas, offset)
            results[name].append(result)
            print(f"round {round_ + 1}, {name}: {result}", file=sys.stderr, flush=True)
    latency = f", Discord imitation {args.discord_latency * 1000:g} ms per message" if args.discord_latency else ""
    print(f"{args.count} webhooks per run at {args.rate:g}/s{latency}; median of {args.repeat} interleaved rounds")
    print("| store | ack p50 | ack p99 | deliveries/s | RSS per bridge |\n|---|---|---|---|---|")
    for name, runs in results.items():
        p50, p99 = median([r.p50 for r in runs]), median([r.p99 for r in runs])
        rate, rss = median([r.rate for r in runs]), median([r.rss for r in runs])
        print(f"| {name} | {p50:.1f} ms | {p99:.1f} ms | {rate:.0f} | {rss:.1f} MiB |")
    for name, runs in results.items():
        p99 = median([r.p99 for r in runs])
        rounds = [round(r.p99, 1) for r in runs]
        print(f"{name}: ack p99 < 50 ms {'met' if p99 < 50 else 'NOT met'} (p99 per round: {rounds})")


@contextlib.contextmanager
def postgres_database(args: argparse.Namespace) -> Iterator[str | None]:
    """--database as given, or a database on a throw-away cluster for --postgres, or None."""
    if not args.postgres:
        yield args.database
        return
    from tests.postgres import PostgresServer

    server = PostgresServer()
    try:
        server.start(durable=True)
        yield server.create_database()
    finally:
        server.remove()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="webhooks per run (default 1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every setup (default 3)")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--database", help="a PostgreSQL URL to measure beside SQLite (its tables are emptied)")
    store.add_argument("--postgres", action="store_true", help="start a throw-away PostgreSQL 15 to measure beside")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of the last PostgreSQL setup (default 2)")
    parser.add_argument(
        "--discord-latency",
        type=float,
        default=0.0,
        help="seconds the imitation takes per message (default 0); with a latency, delivery rather than the webhook"
        " rate bounds deliveries/s, which shows what more replicas add",
    )
    parser.add_argument("--backlog", help="backlog mode: deliveries pending before each run, e.g. 0,1000,10000,50000")
    parser.add_argument(
        "--drain",
        type=int,
        default=10_000,
        help="backlog mode: in the runs with this many pending, time delivering this many once Discord recovers"
        " (default 10000; 0: no drain)",
    )
    parser.add_argument(
        "--recovered",
        default="100/1",
        help="backlog mode: the recovered Discord's bucket, requests/seconds (default 100/1)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    Discord.latency = args.discord_latency
    with discord_imitation() as discord_url, postgres_database(args) as database:
        setups: list[tuple[str, str | None, int]] = [("SQLite, 1 bridge", None, 1)]
        if database:
            setups += [("PostgreSQL, 1 replica", database, 1)]
            setups += [(f"PostgreSQL, {args.replicas} replicas", database, args.replicas)]
        if args.backlog:
            bridge_backlog.main(discord_url, setups, args)
        else:
            bursts(discord_url, setups, args)


if __name__ == "__main__":
    main()
