"""What a statement of the outbox costs, read from the database itself: for tests that pin the cost of accepting,
claiming and the next-due look to the size of the backlog, not growing with it.

`Recording` wraps a store and keeps every statement the outbox runs (SQL and parameters). `replay` runs them again
on a connection of its own, inside a transaction it rolls back, and returns for each its plan (SQLite's `EXPLAIN
QUERY PLAN`, PostgreSQL's `EXPLAIN (ANALYZE)`), the work it did and the full scans in the plan. Work is SQLite's
virtual machine steps (a progress handler called on every instruction) or, on PostgreSQL, the rows every plan node
over an outbox table produced or filtered out, times its loops: a statement that walks every pending row shows
thousands, one that finds its row through an index a handful.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.store import Database, Tx

TABLES = ("deliveries", "notifications", "holds", "dedup", "group_state")
GROWING = (
    "deliveries",
    "notifications",
    "dedup",
    "group_state",
)  # `holds` has one row per webhook: scanning it is fine


class _RecordingTx:
    def __init__(self, tx: Tx, log: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.tx, self.log = tx, log

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.log.append((sql, tuple(params)))
        return await self.tx.execute(sql, params)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.log.extend((sql, tuple(row)) for row in rows)
        await self.tx.executemany(sql, rows)

    @property
    def rowcount(self) -> int:
        return self.tx.rowcount


class Recording:
    """A `Database` that keeps what is run through it in `log` (everything else is the wrapped store's)."""

    def __init__(self, database: Database) -> None:
        self.inner = database
        self.log: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _recorded(self, opened: Callable[[], Any]) -> Any:
        @contextlib.asynccontextmanager
        async def recorded() -> AsyncIterator[_RecordingTx]:
            async with opened() as tx:
                yield _RecordingTx(tx, self.log)

        return recorded()

    def transaction(self) -> Any:
        return self._recorded(self.inner.transaction)

    def read(self) -> Any:
        return self._recorded(self.inner.read)


@dataclass
class Cost:
    sql: str
    plan: list[str]
    work: int
    scans: list[str] = field(default_factory=list)  # full scans of an outbox table in the plan


def replay(database: Database, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Cost]:
    """Each statement's plan, work and full scans (a side connection; everything rolled back)."""
    if database.name == "sqlite":
        return _replay_sqlite(database.path, statements)  # type: ignore[attr-defined]
    return _replay_postgres(database.url, statements)  # type: ignore[attr-defined]


def _replay_sqlite(path: Any, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Cost]:
    db = sqlite3.connect(path, isolation_level=None)
    costs = []
    try:
        db.execute("BEGIN")
        for sql, params in statements:
            text = sql.replace("%s", "?")
            plan = [str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {text}", params)]
            steps = _Steps()
            db.set_progress_handler(steps, 1)
            db.execute(text, params).fetchall()
            db.set_progress_handler(None, 1)
            scans = [line for line in plan if re.match(r"SCAN (?!CONSTANT ROW)", line) or "TEMP B-TREE" in line]
            costs.append(Cost(sql, plan, steps.count, scans))
    finally:
        db.execute("ROLLBACK")
        db.close()
    return costs


class _Steps:
    """A progress handler counting the virtual machine instructions of a statement (called on every one)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return 0  # go on


def _replay_postgres(url: str, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Cost]:
    import psycopg

    costs = []
    with psycopg.connect(url) as conn:
        try:
            for sql, params in statements:
                rows = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).fetchall()
                data = rows[0][0]
                tree = (json.loads(data) if isinstance(data, str) else data)[0]["Plan"]
                nodes = list(_nodes(tree))
                plan = [_describe(node) for node in nodes]
                work = sum(_rows_touched(node) for node in nodes if node.get("Relation Name") in TABLES)
                scans = [
                    _describe(n) for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in GROWING
                ]
                costs.append(Cost(sql, plan, int(work), scans))
        finally:
            conn.rollback()
    return costs


def _nodes(node: dict[str, Any]) -> Any:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _rows_touched(node: dict[str, Any]) -> float:
    removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return (node.get("Actual Rows", 0) + removed) * node.get("Actual Loops", 1)


def _describe(node: dict[str, Any]) -> str:
    where = f" using {node['Index Name']}" if "Index Name" in node else ""
    on = f" on {node['Relation Name']}" if "Relation Name" in node else ""
    estimated = f"estimated cost {node.get('Total Cost')}, rows {node.get('Plan Rows')}"
    actual = f"rows {node.get('Actual Rows')}, loops {node.get('Actual Loops')}"
    return f"{node['Node Type']}{on}{where} ({estimated}; {actual})"
