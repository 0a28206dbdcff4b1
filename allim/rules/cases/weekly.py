"""Weeks of seasonal input for the baseline cases, and the baseline and band those cases expect.

The cases run at a 30-minute step from a Monday 00:00 (day 0; promtool's clock starts at the Unix epoch, but the
rules only ever compare a time with the same time days or weeks before, so which weekday it is does not matter).
Four weeks of history, then the test Monday (day 28), whose 10:00 is when things change. The inputs are flat
around 10:00 on every day, so the hourly averages the baseline reads are the levels themselves and the expected
baseline and bands can be worked out exactly: the median of the weeks, the spread across them, and the band terms
of allim/rules/seasonal.py.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from allim.rules.cases.series import Value
from allim.rules.config import Band, Baseline

STEP = 30  # minutes: the coarsest step the `offset 167h30m` reads allow; weeks at 1 minute would take minutes
STEPS_A_DAY = 24 * 60 // STEP
TEST_DAY = 28
TEST_AT = (TEST_DAY * 24 + 10) * 60  # the test Monday, 10:00, in minutes
CHECK_UNTIL = TEST_AT + 60  # the baselines read an hour (ending at or centred on the moment): flat until 11:00
LENGTH = TEST_AT + 4 * 60  # until 14:00

Level = Callable[[int, int], float]  # (day, minute of the day) -> level


def series(level: Level, *, first_day: int = 0, change: Level | None = None, change_at: int = TEST_AT) -> list[Value]:
    """Values every STEP minutes until LENGTH: `level` from `first_day` on (missing before), `change` from
    `change_at` on."""
    values: list[Value] = []
    for step in range(LENGTH // STEP + 1):
        minute = step * STEP
        day, of_day = divmod(minute, 1440)
        if day < first_day:
            values.append(None)
        elif change is not None and minute >= change_at:
            values.append(change(day, of_day))
        else:
            values.append(level(day, of_day))
    return values


def at_ten(level: Level, day: int) -> float:
    return level(day, 600)


@dataclass(frozen=True)
class Expected:
    """The baseline, upper and lower band at the test time, None where there is not enough history."""

    baseline: float | None
    upper: float | None
    lower: float | None


def _width(band: Band, centre: float, spread: float) -> float:
    return max(band.stddevs * spread, band.min_ratio * centre, band.min_sqrt * math.sqrt(centre))


def expected(
    level: Level, baseline: Baseline, *, upper: Band | None, lower: Band | None, first_day: int = 0
) -> Expected:
    """What the baseline group records at TEST_AT for a series that is `level` from `first_day` on."""
    weeks = [at_ten(level, TEST_DAY - 7 * w) for w in range(1, baseline.weeks + 1) if TEST_DAY - 7 * w >= first_day]
    if len(weeks) < baseline.min_weeks:
        return Expected(None, None, None)
    centre = statistics.median(weeks)
    spread = statistics.pstdev(weeks)
    high = centre + _width(upper, centre, spread) if upper else None
    days = sorted(at_ten(level, TEST_DAY - d) for d in range(1, 8) if TEST_DAY - d >= first_day)
    low = None
    if lower and len(days) == 7:
        quiet = days[1]  # quantile 1/6 of 7 values: the second-lowest
        low = max(0.0, quiet - _width(lower, quiet, 0))
    return Expected(centre, high, low)


def fire_time(for_s: int) -> int:
    """The evaluation (minutes) at which an alert true from TEST_AT on fires, at STEP-minute steps."""
    return TEST_AT + math.ceil(for_s / 60 / STEP) * STEP
