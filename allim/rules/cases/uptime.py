"""The HetrixTools SLO rules worked out by hand for one monitor, to know what a promtool case must expect.

It follows what promtool does with hetrixtools.yml: one-minute input samples, every group evaluated at every step
of the test (whatever its `interval`), in `group_eval_order` (the slot groups before the alerts), ranges that include
both ends (Prometheus 2). Only the numbers a case checks are worked out: the tiers' conditions, the burn rate and the
budget left; the rule file stays the definition, and promtool the judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from allim.rules.config import HetrixToolsObjectives
from allim.rules.slo import PAGE_TIERS, TICKET_TIERS, Tier

Minutes = Sequence[float | None]


class _Prefix:
    """Sums and counts of a series sampled at minutes `times`, for O(1) averages over [t - w, t]."""

    def __init__(self, values: dict[int, float]) -> None:
        self.times = sorted(values)
        self.sums = [0.0]
        for t in self.times:
            self.sums.append(self.sums[-1] + values[t])
        self.values = values

    def _index(self, minute: float) -> int:
        """The number of samples before `minute`."""
        low, high = 0, len(self.times)
        while low < high:
            mid = (low + high) // 2
            if self.times[mid] < minute:
                low = mid + 1
            else:
                high = mid
        return low

    def mean(self, t: int, minutes: float) -> float | None:
        first, last = self._index(t - minutes), self._index(t + 0.5)
        return (self.sums[last] - self.sums[first]) / (last - first) if last > first else None

    def any(self, t: int, minutes: float) -> bool:
        return self._index(t + 0.5) > self._index(t - minutes)


@dataclass
class Monitor:
    """One monitor's `up`, a value per minute from minute 0 (None: no sample), evaluated every `step` minutes."""

    up: Minutes
    objectives: HetrixToolsObjectives
    step: int = 1

    @property
    def budget(self) -> float:
        return 1 - self.objectives.objective / 100

    @cached_property
    def _raw(self) -> _Prefix:
        return _Prefix({m: v for m, v in enumerate(self.up) if v is not None})

    @property
    def _evaluations(self) -> range:
        return range(0, len(self.up), self.step)

    @cached_property
    def _slot_5m(self) -> _Prefix:
        slots = {t: 1 - mean for t in self._evaluations if (mean := self._raw.mean(t, 5 - 1 / 60)) is not None}
        return _Prefix(slots)  # hetrixtools.SLOT_5M_WINDOW, 4m59s

    @cached_property
    def _slot_1h(self) -> _Prefix:
        slots = {t: mean for t in self._evaluations if (mean := self._slot_5m.mean(t, 60 - 1 / 60)) is not None}
        return _Prefix(slots)  # hetrixtools.SLOT_1H_WINDOW, 59m59s

    @cached_property
    def _spells(self) -> _Prefix:
        """1 where max_over_time(up[down_for + 30s]) is 0 at an evaluation: HetrixToolsMonitorDown's condition."""
        window = (self.objectives.down_for_s + 30) / 60
        spells = {}
        for t in self._evaluations:
            if self._raw.any(t, window):
                first, last = self._raw._index(t - window), self._raw._index(t + 0.5)
                spells[t] = 0.0 if max(self._raw.values[m] for m in self._raw.times[first:last]) else 1.0
        return _Prefix(spells)

    def ratio(self, t: int, minutes: float) -> float | None:
        """1 - avg_over_time(up[minutes]) at t."""
        mean = self._raw.mean(t, minutes)
        return None if mean is None else 1 - mean

    def window(self, t: int, minutes: int) -> float | None:
        """The recorded ratio of a tier's window at t: raw up to an hour, from the slots beyond."""
        if minutes <= 60:
            return self.ratio(t, minutes)
        if minutes <= 24 * 60:
            return self._slot_5m.mean(t, minutes)
        return self._slot_1h.mean(t, minutes)

    def remaining(self, t: int) -> float | None:
        """The budget left over the period, at t."""
        ratio = self._slot_1h.mean(t, self.objectives.period_s // 60)
        return None if ratio is None else 1 - ratio / self.budget

    def tier(self, t: int, tier: Tier, *, page: bool) -> float | None:
        """The tier's burn rate over its long window at t when the tier holds, None when it does not."""
        long, short = self.window(t, tier.long_s // 60), self.window(t, tier.short_s // 60)
        factor = tier.factor(self.objectives.period_s)
        if long is None or short is None or not (long / self.budget > factor and short / self.budget > factor):
            return None
        if not self._raw.any(t - (tier.long_s // 60 - 10), 10):  # present_over_time(up[10m] offset …)
            return None
        guarded, minutes = (long, tier.long_s) if page else (short, tier.short_s)
        if guarded <= self.objectives.min_downtime_s / minutes:
            return None
        if page:
            spell = self._spells.mean(t, tier.short_s // 60)  # min_over_time(…[short]) == 0: any spell in it
            if spell is not None and spell > 0:
                return None
        return long / self.budget

    def burn(self, t: int, *, page: bool) -> float | None:
        """The alert's value at t (the first tier that holds), None when no tier holds."""
        for tier in PAGE_TIERS if page else TICKET_TIERS:
            rate = self.tier(t, tier, page=page)
            if rate is not None:
                return rate
        return None


@dataclass(frozen=True)
class Firing:
    """An alert's state at one evaluation: the value of its last true evaluation."""

    value: float
    since: int  # the evaluation it last held at


def firing(monitor: Monitor, t: int, *, page: bool, keep_firing_min: int = 0) -> Firing | None:
    """Whether the alert (no `for:`) fires at t, with the value Prometheus keeps while it keeps firing: it resolves
    at the first evaluation keep_firing_for or more after the first one where the condition no longer held."""
    first = max(0, t - keep_firing_min - monitor.step)
    first -= first % monitor.step
    for s in range(t, first - 1, -monitor.step):
        rate = monitor.burn(s, page=page)
        if rate is not None:
            return Firing(rate, s) if t - s < keep_firing_min + monitor.step else None
    return None
