"""Progress lines on stderr (`allim-backtest: 12.3s recording level 2/3: 4 rule(s)`), so a long run shows life."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def progress_printer(
    quiet: bool, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
) -> Callable[[str], None]:
    began = clock()
    out = stream or sys.stderr

    def report(message: str) -> None:
        if not quiet:
            print(f"allim-backtest: {clock() - began:6.1f}s {message}", file=out, flush=True)

    return report


class Timings:
    """Seconds spent per phase (blocks, recording, alerts, report), summed over rule sets: the benchmark reads it."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.phases: dict[str, float] = {}
        self._clock = clock

    def measure(self, phase: str) -> _Phase:
        return _Phase(self, phase)


class _Phase:
    def __init__(self, timings: Timings, phase: str) -> None:
        self.timings, self.phase = timings, phase

    def __enter__(self) -> None:
        self.began = self.timings._clock()

    def __exit__(self, *exc: object) -> None:
        spent = self.timings._clock() - self.began
        self.timings.phases[self.phase] = self.timings.phases.get(self.phase, 0.0) + spent
