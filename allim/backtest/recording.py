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
        written = _write_level(tsdb, level, first_ms, last_ms, path, recorded)
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


def _write_level(tsdb: Tsdb, level: list[Rule], first_ms: int, last_ms: int, path: Path, recorded: Recorded) -> int:
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for rule in level:
            grid = Grid.covering(first_ms, last_ms, rule.interval_ms)
            shift = stop_shift_ms(tsdb.lookback_ms, grid.step_ms)
            keep_band = BAND_RULE.match(rule.name) is not None
            held: dict[LabelSet, tuple[int, str]] = {}  # each series' latest point, until we know what follows it
            for metric, points in tsdb.query_range(rule.expr, grid):
                labels = label_set(rule.output_labels(metric))
                if labels in held:
                    points = [held.pop(labels), *points]
                held[labels] = points[-1]
                out.write(_lines(labels, points[:-1], grid, shift, points[-1][0]))
                written += len(points) - 1
                if keep_band:
                    _keep(recorded, labels, points[:-1], grid)
            for labels, point in held.items():
                out.write(_lines(labels, [point], grid, shift, grid.count))
                written += 1
                if keep_band:
                    _keep(recorded, labels, [point], grid)
        out.write("# EOF\n")
    return written


def _lines(labels: LabelSet, points: list[tuple[int, str]], grid: Grid, shift: int, following: int) -> str:
    """OpenMetrics lines; a point whose next evaluation has no point is the last before a gap and moves `shift`."""
    prefix = format_series(labels) + " "
    lines = []
    for position, (index, value) in enumerate(points):
        after = points[position + 1][0] if position + 1 < len(points) else following
        ms = grid.time(index) - (shift if after != index + 1 and index + 1 < grid.count else 0)
        lines.append(f"{prefix}{value} {format_timestamp(ms)}\n")
    return "".join(lines)


def _keep(recorded: Recorded, labels: LabelSet, points: list[tuple[int, str]], grid: Grid) -> None:
    times, values = recorded.bands.setdefault(labels, ([], []))
    times.extend(grid.time(index) for index, _ in points)
    values.extend(float(value) for _, value in points)
