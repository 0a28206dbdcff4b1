"""The order tests run in: tests/conftest.py puts the `slow` ones (real processes, browsers, containers) last."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import pytest_collection_modifyitems


@dataclass
class Item:
    name: str
    slow: bool

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "slow" and self.slow else None


def test_collection_runs_slow_tests_last_keeping_their_order() -> None:
    items = [Item("e2e", True), Item("unit", False), Item("compose", True), Item("config", False)]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.name for i in items] == ["unit", "config", "e2e", "compose"]
