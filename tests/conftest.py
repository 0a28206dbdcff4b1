"""Fixtures every test area may use. Helpers to import (not fixtures) are in tests/support.py and testkit/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.discord import FakeDiscord, running
from tests.postgres import PostgresServer
from tests.support import recorded


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
