"""What the tests share: testkit's process, server and waiting helpers (re-exported for the existing imports),
and the recorded upstream payloads under tests/fixtures/."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from prometheus_client.metrics_core import Metric

from testkit.processes import REPO, Process, free_port, http_ok, python_module, running
from testkit.servers import ThreadedServer
from testkit.waiting import eventually, wait_until

FIXTURES = REPO / "tests" / "fixtures"


class Clock:
    """A clock a test sets by hand: pass it where code takes `clock=` (time.time or time.monotonic)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def samples(families: Iterable[Metric]) -> dict[SampleKey, float]:
    """{(sample name, sorted labels): value} for every sample of the families: one dict to assert against."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def recorded(system: str, name: str) -> Any:
    """A recorded payload, `tests/fixtures/<system>/<name>`, decoded (a fresh copy each call: tests may edit it)."""
    return json.loads((FIXTURES / system / name).read_text(encoding="utf-8"))


__all__ = [
    "FIXTURES",
    "Clock",
    "REPO",
    "Process",
    "ThreadedServer",
    "eventually",
    "free_port",
    "http_ok",
    "python_module",
    "recorded",
    "running",
    "samples",
    "wait_until",
]
