"""Fixtures of the end-to-end tests: a real PostgreSQL for the HA pipeline (tests/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; each test that uses it creates its own database."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()
