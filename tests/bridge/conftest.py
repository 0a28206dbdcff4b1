"""Fixtures of the bridge tests: the outbox on each store, so one test pins both."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from bridge.outbox import Outbox
from bridge.store import Database
from tests import support
from tests.postgres import PostgresServer

STORES = ("sqlite", "postgresql")


class Clock(support.Clock):
    """The shared hand-moved clock, starting where the bridge tests' expected times start."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        super().__init__(now)


def make_database(kind: str, request: pytest.FixtureRequest, tmp_path, **options: float) -> Database:
    if kind == "sqlite":
        from bridge.store.sqlite import SqliteDatabase

        return SqliteDatabase(tmp_path / "outbox.sqlite3", **options)
    from bridge.store.postgres import PostgresDatabase

    server: PostgresServer = request.getfixturevalue("postgres")
    # busy_timeout is SQLite's lock wait (tests set it short to see a lock fail fast); the pool's wait for a
    # connection stays generous, or a loaded machine fails the first connect of a test.
    return PostgresDatabase(server.create_database(), timeout=5.0)


@contextlib.asynccontextmanager
async def opened(box: Outbox) -> AsyncIterator[Outbox]:
    """`box` opened, and closed afterwards even when opening fails: an unclosed pool's tasks would hang the event
    loop's teardown."""
    try:
        await box.open()
        yield box
    finally:
        await box.close()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """The store kind a test runs on (every test using it runs once per store)."""
    return str(request.param)
