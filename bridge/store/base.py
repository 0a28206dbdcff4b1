"""The interface every store implements, and its error (see bridge/store/__init__.py for choosing one).

The outbox logic (bridge/outbox.py) is written once against `Database`: transactions of plain SQL with
`%s` placeholders. Each backend module holds only what differs: connecting, its schema and migrations,
the few dialect words (row locks, GREATEST), and how other replicas are told about new rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StoreError(Exception):
    """The store cannot do this now (full, locked, unreachable, disk errors); webhooks answer 503 with it.

    The message is safe to show: it never holds a database password."""


class Tx(Protocol):
    """One transaction: statements with `%s` placeholders, each returning its rows (empty for writes)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @property
    def rowcount(self) -> int:
        """Rows changed by the last `execute`."""
        ...


class Database(Protocol):
    """A connection (pool) to one store, opened and migrated by `open()`."""

    name: str  # "sqlite" | "postgresql"
    where: dict[str, str]  # for the start log line and the console: {"path": …} / {"host", "port", "db"}; no password
    shared: bool  # other processes may change rows (several replicas): refresh cached counts from the store
    lock_rows: str  # appended to the claim query: "FOR UPDATE OF d SKIP LOCKED" where rows can be locked
    greatest: str  # the SQL function of the largest of its arguments
    # Run inside a transaction: `notify_sql` (one parameter: comma-separated channel keys) tells the other
    # replicas at commit that rows are waiting. `group_lock` is an SQL expression with `{}` for an alert group's
    # key, taking a lock held until commit: it serialises what changes a group's queue (enqueue, finishing its
    # head, reviving), so ids follow commit order within a group and its head marker stays right. None where
    # one writer at a time already does that.
    notify_sql: str | None
    group_lock: str | None

    async def open(self) -> None:
        """Connect and create or migrate the schema; raises StoreError."""
        ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Commit on success, roll back on an exception; database errors surface as StoreError."""
        ...

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """Statements that only read: no write lock and no explicit transaction (each statement sees what was
        committed when it started), so a look never blocks or waits for a writer. Errors as StoreError."""
        ...

    async def ping(self) -> None:
        """A trivial query; raises StoreError when the store cannot be reached."""
        ...

    async def listen(self, wake: Callable[[list[str] | None], None]) -> None:
        """Call `wake(keys)` whenever another replica notifies (`wake(None)`: look at every channel, e.g. after
        a reconnect may have missed some), until cancelled; returns at once when not shared."""
        ...


def in_list(values: Sequence[object]) -> str:
    """`%s, %s, …` for an IN (...) list of `values` (both drivers take positional parameters)."""
    return ", ".join(["%s"] * len(values))
