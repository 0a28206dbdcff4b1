"""Prometheus' alert state machine for one label set of one alerting rule, over a regular evaluation grid.

This follows `AlertingRule.Eval` in prometheus/prometheus rules/alerting.go (v2.42.0, the version Debian ships):
- the first evaluation that returns the label set creates a pending alert with `ActiveAt = ts`;
- a pending alert fires at the first evaluation with `ts - ActiveAt >= for` (so `for: 0` fires at once);
  `FiredAt = ts` is what Alertmanager receives as `startsAt`;
- a pending alert whose label set is missing from a result is deleted (no alert, no reset time);
- a firing alert whose label set is missing is kept firing while `ts - KeepFiringSince < keep_firing_for`, where
  `KeepFiringSince` is the first evaluation it went missing (reset whenever it is returned again); after that it
  resolves with `ResolvedAt = ts`, Alertmanager's `endsAt`;
- a resolved alert returned again starts over as a new pending alert (`alert.State != StateInactive` test).
Only the evaluations where the presence changes matter, so the walk is over runs of consecutive evaluations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Grid:
    """Evaluation times `start_ms + k * step_ms` for k in 0..count-1, as a rule group evaluates them."""

    start_ms: int
    step_ms: int
    count: int

    @classmethod
    def covering(cls, first_ms: int, last_ms: int, step_ms: int) -> Grid:
        """The evaluations inside [first_ms, last_ms], aligned to multiples of the step since the epoch."""
        start = -(-first_ms // step_ms) * step_ms
        end = last_ms // step_ms * step_ms
        return cls(start, step_ms, max(0, (end - start) // step_ms + 1))

    @property
    def end_ms(self) -> int:
        return self.time(self.count - 1)

    def time(self, index: int) -> int:
        return self.start_ms + index * self.step_ms

    def index(self, time_ms: int) -> int:
        """The evaluation at `time_ms`; the time must be on the grid."""
        offset = time_ms - self.start_ms
        if offset % self.step_ms:
            raise ValueError(f"{time_ms} is not on the evaluation grid")
        return offset // self.step_ms


@dataclass(frozen=True)
class Span:
    """One alert: pending since `active_at`, firing from `fired_at`, resolved at `resolved_at` (None: still firing)."""

    active_at: int
    fired_at: int
    resolved_at: int | None


def alert_spans(present: Sequence[int], grid: Grid, hold_ms: int, keep_firing_ms: int) -> list[Span]:
    """The alerts of one label set, given the sorted grid indices at which the rule's expression returned it."""
    runs = list(_runs(present))
    hold_steps = -(-hold_ms // grid.step_ms)
    keep_steps = -(-keep_firing_ms // grid.step_ms)
    last = grid.count - 1
    spans: list[Span] = []
    i = 0
    while i < len(runs):
        first, end = runs[i]
        fired = first + hold_steps
        if fired > end:
            i += 1  # pending, then gone (or still pending when the range ends): never fired
            continue
        resolved: int | None = None
        while True:
            missing_from = end + 1
            if missing_from > last:
                break
            resolve_at = missing_from + keep_steps
            if i + 1 < len(runs) and runs[i + 1][0] <= resolve_at:
                i += 1  # returned while keep_firing_for still held it: the same alert goes on
                end = runs[i][1]
                continue
            resolved = resolve_at if resolve_at <= last else None
            break
        spans.append(Span(grid.time(first), grid.time(fired), None if resolved is None else grid.time(resolved)))
        i += 1
    return spans


def _runs(present: Sequence[int]) -> Iterator[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> (1, 3), (7, 8): runs of consecutive evaluations."""
    if not present:
        return
    first = previous = present[0]
    for index in present[1:]:
        if index != previous + 1:
            yield first, previous
            first = index
        previous = index
    yield first, previous
