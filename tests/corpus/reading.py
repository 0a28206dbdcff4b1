"""Reading the corpus's series in tests: one series by name and labels, runs of samples, means over what is there."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tests.corpus.history import Series


@dataclass
class Corpus:
    series: list[Series]

    def one(self, name: str, **labels: str) -> Series:
        """The single series named `name` whose labels include `labels`."""
        found = [s for s in self.series if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
        assert len(found) == 1, f"{name}{labels}: {len(found)} series"
        return found[0]

    def named(self, name: str) -> list[Series]:
        return [s for s in self.series if s.name == name]


def present(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def mean(values: Sequence[float]) -> float:
    values = present(values)
    return sum(values) / len(values)


def runs(values: Sequence[float], predicate: Callable[[float], bool]) -> list[tuple[int, int]]:
    """(first minute, length) of each run of consecutive samples for which `predicate` holds."""
    found, start = [], None
    for minute, value in enumerate(values):
        holds = not math.isnan(value) and predicate(value)
        if holds and start is None:
            start = minute
        elif not holds and start is not None:
            found.append((start, minute - start))
            start = None
    if start is not None:
        found.append((start, len(values) - start))
    return found
