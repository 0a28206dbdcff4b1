"""Backlog mode of bench/bridge.py: acks while thousands of deliveries wait behind a rate-limited Discord, and the
drain once it recovers.

Each run starts its store with N deliveries pending to the imitation's webhook (the first N of a backlog written once
per store through the outbox itself, copied in before the bridges start), limits the imitation to Discord's webhook
bucket (5 requests per 2 s), sends `count` webhooks at `rate` and takes their ack p50/p99. In the runs with the drain
size pending, the imitation then recovers to a bigger bucket and the time until `drain` more messages arrived is
taken, with the 429s it answered meanwhile: a bridge that keeps to the bucket answers none and drains at its rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bridge_kit import Discord, bridges, burst, empty_tables, median, percentile

from bridge.alertmanager import notification_from_webhook
from bridge.channels.discord.channel import redacted_target
from bridge.outbox import ChannelRef, Outbox
from bridge.store import Database
from testkit.alertmanager import webhook

DISCORD_BUCKET = (5, 2.0)  # a Discord webhook's bucket: 5 requests, refilled every 2 s
BACKLOG_NUMBERS = 10**7  # the backlog's webhooks are numbered from here (the runs' own from 0: no dedup between them)
SNAPSHOT = "allim_bench"  # PostgreSQL: the schema the written backlog is kept in


@dataclass
class BacklogResult:
    p50: float  # ms
    p99: float  # ms
    drain: float | None = None  # seconds until `drain` messages arrived after Discord recovered
    rate_limited: int = 0  # 429s answered during the drain


class Backlog:
    """`size` pending deliveries to the imitation's webhook, written once through the outbox; `restore` copies the
    first N into a run's store (SQLite: the file in its data directory; PostgreSQL: the emptied tables)."""

    def __init__(self, discord_url: str, database: str | None, size: int, work_dir: Path) -> None:
        self.ref = ChannelRef("default/discord/0", "discord", redacted_target(discord_url))
        self.database, self.size = database, size
        self.template = work_dir / "backlog.sqlite3"

    def write(self) -> None:
        started = time.monotonic()
        if self.database:
            empty_tables(self.database)
        asyncio.run(self._fill(self._store(self.template)))
        if self.database:
            self._keep_snapshot(self.database)
        print(f"backlog of {self.size} written in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    def _store(self, path: Path) -> Database:
        if self.database:
            from bridge.store.postgres import PostgresDatabase

            return PostgresDatabase(self.database)
        from bridge.store.sqlite import SqliteDatabase

        return SqliteDatabase(path)

    async def _fill(self, database: Database) -> None:
        box = Outbox(database, max_pending=self.size + 1)
        await box.open()
        parallel = asyncio.Semaphore(8)  # PostgreSQL writes on several connections; SQLite one after the other

        async def one(n: int) -> None:
            async with parallel:
                notification = notification_from_webhook(webhook(BACKLOG_NUMBERS + n), "default")
                await box.enqueue(notification, [self.ref], 300)

        try:
            await asyncio.gather(*(one(n) for n in range(self.size)))
        finally:
            await box.close()

    def _keep_snapshot(self, url: str) -> None:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE")
            conn.execute(f"CREATE SCHEMA {SNAPSHOT}")
            for table in ("notifications", "deliveries"):
                conn.execute(f"CREATE TABLE {SNAPSHOT}.{table} AS SELECT * FROM {table}")

    def restore(self, count: int, data_dir: Path | None = None) -> None:
        if self.database:
            self._restore_postgres(self.database, count)
        else:
            assert data_dir is not None
            self._restore_sqlite(data_dir / "outbox.sqlite3", count)

    def _restore_sqlite(self, path: Path, count: int) -> None:
        asyncio.run(_migrated(self._store(path)))
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("ATTACH DATABASE ? AS backlog", (str(self.template),))
            conn.execute("INSERT INTO notifications SELECT * FROM backlog.notifications ORDER BY id LIMIT ?", (count,))
            conn.execute(
                "INSERT INTO deliveries SELECT * FROM backlog.deliveries WHERE notification_id IN"
                " (SELECT id FROM notifications)"
            )

    def _restore_postgres(self, url: str, count: int) -> None:
        import psycopg

        empty_tables(url)
        with psycopg.connect(url) as conn:
            conn.execute(
                f"INSERT INTO notifications SELECT * FROM {SNAPSHOT}.notifications ORDER BY id LIMIT %s", (count,)
            )
            conn.execute(
                f"INSERT INTO deliveries SELECT * FROM {SNAPSHOT}.deliveries WHERE notification_id IN"
                " (SELECT id FROM notifications)"
            )
            for table in ("notifications", "deliveries"):  # new rows get ids after the copied ones
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 0) + 1 FROM {SNAPSHOT}.{table}))"
                )

    def drop_snapshot(self) -> None:
        if self.database:
            import psycopg

            with psycopg.connect(self.database, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE")


async def _migrated(database: Database) -> None:
    """An empty store at the newest schema."""
    await database.open()
    await database.close()


def run(
    discord_url: str,
    backlog: Backlog,
    replicas: int,
    pending: int,
    webhooks: tuple[int, float, int],
    drain: tuple[int, int, float],
) -> BacklogResult:
    """One run: `pending` deliveries waiting, then `webhooks` (count, rate, offset) while Discord rate-limits;
    `drain` (messages, bucket limit, bucket window) once it recovers, when messages is not 0."""
    count, rate, offset = webhooks
    messages, limit, window = drain
    prepare: Callable[[Path], None] | None = None
    if backlog.database:
        backlog.restore(pending)
    else:
        prepare = lambda data_dir: backlog.restore(pending, data_dir)  # noqa: E731
    Discord.reset()
    Discord.limit_to(*DISCORD_BUCKET)
    with bridges(discord_url, backlog.database, replicas, pending + count + 1000, prepare) as running:
        latencies = asyncio.run(burst(running.urls, count, rate, offset))
        result = BacklogResult(median(latencies) * 1000, percentile(latencies, 0.99) * 1000)
        if messages:
            result.drain, result.rate_limited = _drain(messages, limit, window)
    return result


def _drain(messages: int, limit: int, window: float) -> tuple[float, int]:
    """Discord recovers to `limit` per `window` s: seconds until `messages` more arrived, and the 429s meanwhile."""
    with Discord.lock:
        before, limited = len(Discord.received), Discord.rate_limited
    Discord.limit_to(limit, window)
    started = time.monotonic()
    deadline = started + 3 * messages * window / limit + 60
    while len(Discord.received) < before + messages and time.monotonic() < deadline:
        time.sleep(0.05)
    with Discord.lock:
        done = Discord.received[before + messages - 1] if len(Discord.received) >= before + messages else float("nan")
        return done - started, Discord.rate_limited - limited


def report(
    results: dict[tuple[str, int], list[BacklogResult]],
    sizes: list[int],
    args: tuple[int, float, int],
    drain: tuple[int, int, float],
) -> None:
    """The two tables (Markdown, on stdout): acks by backlog, and the drain."""
    count, rate, repeat = args
    messages, limit, window = drain
    names = list(dict.fromkeys(name for name, _ in results))
    print(
        f"Backlog: {count} webhooks per run at {rate:g}/s while Discord allows {DISCORD_BUCKET[0]} requests per"
        f" {DISCORD_BUCKET[1]:g} s; median of {repeat} interleaved rounds"
    )
    print("| store | pending before | ack p50 | ack p99 | p99 ÷ p99 with none pending |\n|---|---|---|---|---|")
    for name in names:
        base = median([r.p99 for r in results[(name, sizes[0])]])
        for size in sizes:
            p50, p99 = median([r.p50 for r in results[(name, size)]]), median([r.p99 for r in results[(name, size)]])
            print(f"| {name} | {size:,} | {p50:.1f} ms | {p99:.1f} ms | {p99 / base:.2f} |")
    if not messages:
        return
    ideal = messages * window / limit
    print(
        f"\nDrain once Discord recovers to {limit} requests per {window:g} s ({limit / window:g}/s): {messages:,}"
        f" messages, {ideal:.0f} s at the bucket's rate; median of {repeat} rounds (429s: all rounds)"
    )
    print("| store | drain time | messages/s | share of the bucket's rate | 429s |\n|---|---|---|---|---|")
    for name in names:
        runs = results.get((name, messages), [])
        drained = [r.drain for r in runs if r.drain is not None]
        if drained:
            seconds = median(drained)
            limited = sum(r.rate_limited for r in runs)
            print(f"| {name} | {seconds:.1f} s | {messages / seconds:.0f} | {ideal / seconds:.2f} | {limited} |")


def main(discord_url: str, setups: list[tuple[str, str | None, int]], args: argparse.Namespace) -> None:
    """Every setup with every backlog size, interleaved, `repeat` rounds; the tables at the end."""
    sizes = sorted(int(n) for n in args.backlog.split(","))
    count, rate, repeat = args.count, args.rate, args.repeat
    limit, window = (float(part) for part in args.recovered.split("/"))
    drain = (args.drain, int(limit), window)
    results: dict[tuple[str, int], list[BacklogResult]] = {}
    with tempfile.TemporaryDirectory() as work:
        backlogs = {database: Backlog(discord_url, database, max(sizes), Path(work)) for _, database, _ in setups}
        for backlog in backlogs.values():
            backlog.write()
        try:
            for round_ in range(repeat):
                for index, (size, (name, database, replicas)) in enumerate(
                    (size, setup) for size in sizes for setup in setups
                ):
                    offset = (round_ * len(sizes) * len(setups) + index) * count
                    this_drain = drain if size == drain[0] else (0, 1, 1.0)
                    result = run(discord_url, backlogs[database], replicas, size, (count, rate, offset), this_drain)
                    results.setdefault((name, size), []).append(result)
                    print(f"round {round_ + 1}, {name}, {size} pending: {result}", file=sys.stderr, flush=True)
        finally:
            for backlog in backlogs.values():
                backlog.drop_snapshot()
    report(results, sizes, (count, rate, repeat), drain)
