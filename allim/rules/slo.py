"""Multi-window, multi-burn-rate SLO alerting: the Google SRE Workbook's tiers (ch. 5, "Alerting on SLOs").

Burn rate = error ratio / (1 - objective). A tier fires when the burn rate over its long window and over its short
window (about 1/12 of the long one, so the alert resets soon after the errors stop) both exceed its factor, the
factor being the share of the period's budget the tier allows its long window to spend: 2% in 1 h is 14.4x over a
30-day period. These are the Workbook's table 5-8 plus the 1d/2h ticket of its worked example, the four tiers
Sloth and Pyrra both generate (slok/sloth `internal/plugin/slo/core/sli_rules_v1`, pyrra-dev/pyrra `slo/rules.go`
`Windows`).

Long windows are built the way Sloth's "optimized" rules build its 30-day ratio (an average over a recorded
short-window ratio) rather than from raw samples: a 5-minute slot recorded every 5 minutes feeds the windows up to a
day, an hourly slot feeds 3 days and the period. Averages, not sums of slots, so the result does not depend on how
often a group is evaluated (promtool's unit tests evaluate every group at the test's interval).
"""

from __future__ import annotations

from dataclasses import dataclass

from allim.rules.config import prom_duration

HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Tier:
    long_s: int
    short_s: int
    budget_share: float  # of the whole period's error budget, spent within the long window

    def factor(self, period_s: int) -> float:
        return self.budget_share * period_s / self.long_s

    @property
    def windows(self) -> str:
        return f"{prom_duration(self.long_s)}/{prom_duration(self.short_s)}"


PAGE_TIERS = (Tier(HOUR, 5 * 60, 0.02), Tier(6 * HOUR, 30 * 60, 0.05))
TICKET_TIERS = (Tier(DAY, 2 * HOUR, 0.10), Tier(3 * DAY, 6 * HOUR, 0.10))

# Where each window's ratio is recorded: raw samples for the windows a page needs fresh at every evaluation, 5-minute
# slots (a group evaluated every 5 minutes) up to a day, hourly slots (a group evaluated every hour) beyond.
FAST_WINDOWS = (5 * 60, 30 * 60, HOUR)
SLOT_5M_WINDOWS = (2 * HOUR, 6 * HOUR, DAY)
SLOT_1H_WINDOWS = (3 * DAY,)


def freshness(window_s: int) -> str:
    """How far back an alert evaluated every 15 s looks for the latest value of a window's recorded ratio: a series
    recorded every 5 minutes (or every hour) is older than Prometheus' 5-minute lookback between evaluations."""
    if window_s in FAST_WINDOWS:
        return ""
    return "10m" if window_s in SLOT_5M_WINDOWS else "2h"


def number(value: float) -> str:
    """A float as PromQL and a reader want it: 14.4, 0.001, 0.00416667."""
    return f"{value:.6g}"
