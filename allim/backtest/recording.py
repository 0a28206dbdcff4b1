"""Recording rules materialised into the TSDB, level by level.

Each rule's expression is evaluated over the range with a range query on the same grid its group would evaluate on,
the results are written as the recorded series (rule labels over the result's, `__name__` set to the rule's name,
as `promtool tsdb create-blocks-from rules` does), and the level's samples become blocks before the next level
runs. We write the blocks ourselves rather than with `create-blocks-from rules`: that tool cuts one block per rule
per two hours (a month of ten rules is 3,600 blocks for every later query to open) and evaluates on the group's
hashed offset, where ours share the grid of the alert evaluation, as rules in one group share an evaluation time.

Staleness of recorded series. Live Prometheus marks a recorded series stale at the first evaluation that no longer
returns it. When the lookback delta (chosen for the raw history, see run.py) reaches a whole interval, a recorded
sample would still be seen one evaluation after its series stopped; so the last sample before each gap is written
slightly earlier (`stop_shift_ms`), just enough to be out of the lookback at the next evaluation. Only the sample
before a gap moves, and by less than an interval, so windows over recorded series keep their samples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from allim.backtest.history import format_timestamp
from allim.backtest.rules import Rule, RuleSet
from allim.backtest.selectors import LabelSet, format_series, label_set
from allim.backtest.statemachine import Grid
from allim.backtest.tsdb import Tsdb

# `<level>:<metric>:baseline`, `…:band_upper`, `…:band_lower`: the series a report draws over `<metric>`.
BAND_RULE = re.compile(
    r"^[a-zA-Z_][a-zA-Z0-9_]*:(?P<metric>[a-zA-Z_][a-zA-Z0-9_]*):(?P<kind>baseline|band_upper|band_lower)$"
)


@dataclass
class Recorded:
    """What materialising kept beyond the TSDB: baseline and band series for the report, and counts."""

    bands: dict[LabelSet, tuple[list[int], list[float]]] = field(default_factory=dict)
    samples: int = 0


def materialise(
    tsdb: Tsdb,
    rule_set: RuleSet,
    first_ms: int,
    last_ms: int,
    progress: Callable[[str], None],
) -> Recorded:
    """Evaluate every recording rule over [first_ms, last_ms] into the TSDB; Prometheus is running on return."""
    recorded = Recorded()
    levels = rule_set.recording_levels()
    for number, level in enumerate(levels, start=1):
        progress(f"recording level {number}/{len(levels)}: {len(level)} rule(s)")
        path = tsdb.workdir / f"recorded-{number}.om"
        written = _write_level(tsdb, level, first_ms, last_ms, path, recorded, progress)
        recorded.samples += written
        if written:
            tsdb.stop()
            tsdb.add_blocks(path)
            tsdb.start()
        path.unlink()
    return recorded


def stop_shift_ms(lookback_ms: int, step_ms: int) -> int:
    """How much earlier the last sample before a gap is written so the next evaluation no longer sees it."""
    if lookback_ms < step_ms:
        return 0
    return min(step_ms - 1, lookback_ms - step_ms + 1)


def _write_level(
    tsdb: Tsdb,
    level: list[Rule],
    first_ms: int,
    last_ms: int,
    path: Path,
    recorded: Recorded,
    progress: Callable[[str], None],
) -> int:
    jobs = [
        (rule, rule.expr, grid) for rule in level if (grid := Grid.covering(first_ms, last_ms, rule.interval_ms)).count
    ]
    writers = {rule: _RuleWriter(rule, grid, stop_shift_ms(tsdb.lookback_ms, grid.step_ms)) for rule, _, grid in jobs}
    with open(path, "w", encoding="utf-8") as out:
        current: _RuleWriter | None = None
        for rule, _, results in tsdb.query_range(jobs):
            if current is not writers[rule]:
                if current is not None:
                    current.finish(out, recorded)
                current = writers[rule]
                progress(f"  {rule.name} ({list(writers).index(rule) + 1}/{len(writers)})")
            current.add(results, out, recorded)
        if current is not None:
            current.finish(out, recorded)
        out.write("# EOF\n")
    return sum(writer.written for writer in writers.values())


class _RuleWriter:
    """Writes one recording rule's answers, chunk after chunk, as OpenMetrics lines of the recorded series.

    Each series' last point waits for the next chunk: only then is it known whether a gap follows it."""

    def __init__(self, rule: Rule, grid: Grid, shift_ms: int) -> None:
        self.rule, self.grid, self.shift_ms = rule, grid, shift_ms
        self.step_s = grid.step_ms / 1000
        self.whole_seconds = grid.start_ms % 1000 == 0 and grid.step_ms % 1000 == 0
        self.keep_band = BAND_RULE.match(rule.name) is not None
        self.held: dict[LabelSet, tuple[str, list[Any]]] = {}
        self.written = 0

    def add(self, results: list[tuple[dict[str, str], list[list[Any]]]], out: TextIO, recorded: Recorded) -> None:
        for metric, values in results:
            labels = label_set(self.rule.output_labels(metric))
            if labels in self.held:
                prefix, previous = self.held.pop(labels)
                values = [previous, *values]
            else:
                prefix = format_series(labels) + " "
            self.held[labels] = (prefix, values[-1])
            self._write(out, prefix, values[:-1], following=float(values[-1][0]))
            if self.keep_band:
                _keep(recorded, labels, values[:-1])

    def finish(self, out: TextIO, recorded: Recorded) -> None:
        for labels, (prefix, point) in self.held.items():
            self._write(out, prefix, [point], following=None)
            if self.keep_band:
                _keep(recorded, labels, [point])
        self.held = {}

    def _write(self, out: TextIO, prefix: str, values: list[list[Any]], following: float | None) -> None:
        """Lines for `values`; a point whose next evaluation has no point is the last before a gap and moves."""
        if not values:
            return
        self.written += len(values)
        end_s = self.grid.end_ms / 1000
        first, last = float(values[0][0]), float(values[-1][0])
        gapless = round((last - first) / self.step_s) == len(values) - 1
        last_stops = (following is None and last < end_s) or (
            following is not None and following - last > self.step_s * 1.5
        )
        if gapless and self.whole_seconds and not (last_stops and self.shift_ms):
            out.write("".join([f"{prefix}{value} {ts}\n" for ts, value in values]))
            return
        lines = []
        for position, (ts, value) in enumerate(values):
            seconds = float(ts)
            if position + 1 < len(values):
                stops = float(values[position + 1][0]) - seconds > self.step_s * 1.5
            else:
                stops = last_stops
            ms = round(seconds * 1000) - (self.shift_ms if stops else 0)
            lines.append(f"{prefix}{value} {format_timestamp(ms)}\n")
        out.write("".join(lines))


def _keep(recorded: Recorded, labels: LabelSet, values: list[list[Any]]) -> None:
    times, points = recorded.bands.setdefault(labels, ([], []))
    times.extend(round(float(ts) * 1000) for ts, _ in values)
    points.extend(float(value) for _, value in values)
