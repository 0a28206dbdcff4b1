"""Fixtures every test area may use. Helpers to import (not fixtures) are in tests/support.py and testkit/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.discord import FakeDiscord, running
from tests.postgres import PostgresServer
from tests.support import recorded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`slow` tests (real processes, browsers, containers) run after all the others, in the order they were
    collected: a quick failure shows first, and `make test` and CI spend the long part last."""
    quick = [item for item in items if item.get_closest_marker("slow") is None]
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    items[:] = quick + slow


@pytest.fixture
def recorded_payload() -> Callable[[str, str], Any]:
    """`recorded_payload("sentry", "projects.json")`: a recorded upstream payload, decoded, a fresh copy each call."""
    return recorded


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (tests/postgres.py); each test creates its own database."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    """The Discord fake (tests/fakes/discord.py) on a free port; `discord.url()` is a webhook URL."""
    with running(FakeDiscord()) as fake:
        yield fake
