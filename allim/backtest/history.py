"""The history to replay: raw samples per series, in memory, written out as OpenMetrics for promtool."""

from __future__ import annotations

import statistics
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from allim.backtest.selectors import LabelSet, format_series, metric_name


@dataclass
class Series:
    """One series' samples: times in ms (strictly increasing) and their values."""

    labels: LabelSet
    times: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))

    @property
    def name(self) -> str:
        return metric_name(self.labels)

    def regular_gap_ms(self) -> int | None:
        """The longest gap between samples that is still regular sampling (at most 1.5x the median gap, the scrape
        interval for scraped data): longer gaps are absences. None below 2 samples."""
        if len(self.times) < 2:
            return None
        gaps = [later - earlier for earlier, later in zip(self.times, self.times[1:], strict=False)]
        limit = statistics.median(gaps) * 1.5
        return max(gap for gap in gaps if gap <= limit)


class History:
    """Every series of the history, keyed by its labels."""

    def __init__(self, series: Iterable[Series]) -> None:
        self.series: dict[LabelSet, Series] = {one.labels: one for one in series if len(one.times)}

    def __len__(self) -> int:
        return len(self.series)

    @property
    def first_ms(self) -> int:
        return min(one.times[0] for one in self.series.values())

    @property
    def last_ms(self) -> int:
        return max(one.times[-1] for one in self.series.values())

    def sample_count(self) -> int:
        return sum(len(one.times) for one in self.series.values())

    def metric_names(self) -> set[str]:
        return {one.name for one in self.series.values()}

    def regular_gap_ms(self) -> int | None:
        """The longest regular gap of any series: a sample is due again within it, whatever the series."""
        gaps = [gap for one in self.series.values() if (gap := one.regular_gap_ms()) is not None]
        return max(gaps) if gaps else None

    def on_grid(self, step_ms: int) -> bool:
        """Whether every sample sits on the evaluation grid of `step_ms` (a multiple of it since the epoch)."""
        return all(ms % step_ms == 0 for one in self.series.values() for ms in one.times)

    def write_openmetrics(self, path: Path) -> None:
        """Every sample as `name{labels} value timestamp`, series after series, then `# EOF`."""
        with open(path, "w", encoding="utf-8") as out:
            for labels in sorted(self.series):
                one = self.series[labels]
                prefix = format_series(labels) + " "
                if all(ms % 1000 == 0 for ms in one.times):  # the common case, written fast
                    stamps = [str(ms // 1000) for ms in one.times]
                else:
                    stamps = [format_timestamp(ms) for ms in one.times]
                # repr() of a float is exact; its nan and inf are what promtool reads as NaN and +Inf
                out.write(
                    "".join([f"{prefix}{value!r} {stamp}\n" for stamp, value in zip(stamps, one.values, strict=True)])
                )
            out.write("# EOF\n")


def format_timestamp(ms: int) -> str:
    """Milliseconds as OpenMetrics seconds. promtool truncates `seconds * 1000` to an integer, so a fraction is
    written half a millisecond up (`1.2345` for 1234 ms): the float product then truncates to the right ms."""
    seconds, rest = divmod(ms, 1000)
    return f"{seconds}.{rest:03d}5" if rest else str(seconds)
