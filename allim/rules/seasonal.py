"""A seasonal baseline and band for a gauge, as recording rules: what is usual at this hour of this weekday.

The baseline is the median of the same hour in the last `weeks` weeks (each an hour's average centred on the same
time of the week), GitLab's prediction (gitlab-com/runbooks `service-ops-anomaly-detection.libsonnet`: the median of
the 1h rate 1, 2 and 3 weeks back, `offset 1w - 30m`): one bad week (an incident, a holiday, an outage at zero) cannot
move it, and zeros count like any value (Grafana's promql-anomaly-detection selects `> 0` and so gives zero-heavy
series no band at all). The band's half-width is the widest of: `stddevs` standard deviations of that hour across the
weeks (Grafana's adaptive bands use 2, GitLab's z-score 3), a share of the baseline (Grafana's margin band, ±50%),
and square roots of the baseline (the counting noise of a small count, which four weeks cannot estimate).

No history, no alert: the baseline exists only once `min_weeks` of the weeks have data (3 weeks and an hour with the
shipped config). A new project or property, or a fresh Prometheus, gets no seasonal alert until then; the absolute
rules cover it. Prometheus' default 15-day retention never holds 3 weeks: the compose file keeps 30 days.

A drop is measured against the quietest usual day instead of the weekly median: the lower band sits under the
second-lowest of the same hour over the last 7 days (robust to one odd day), so a weekend, and a holiday that looks
like one, stay inside it, where a drop below the weekday median would fire on every holiday of a site whose
weekends are quiet. It needs 7 days of history.

The group runs every 5 minutes and reads only its own recorded hourly averages across weeks: four instant values
per series, not four weeks of raw samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from allim.rules.config import Band, Baseline
from allim.rules.model import Group, Rule, Text, record
from allim.rules.slo import number

WEEK_HOURS = 7 * 24


@dataclass(frozen=True)
class Seasonal:
    """The baseline series of one gauge: `<level>:<metric>:<operation>` (Prometheus' naming for recording rules);
    allim-backtest draws `…:baseline`, `…:band_upper` and `…:band_lower` over the gauge.

    `same_minute`: the gauge is a sawtooth tied to the clock (Sentry's count climbs through each hour), so what is
    compared across weeks is its value at the same minute of the hour, averaged over three hours; otherwise (a
    smooth gauge) its average over an hour. Either way a week-ago value is centred on the same moment."""

    metric: str
    level: str
    same_minute: bool = False

    def series(self, operation: str) -> str:
        return f"{self.level}:{self.metric}:{operation}"

    @property
    def smoothed(self) -> str:
        return self.series("same_minute_avg_3h" if self.same_minute else "avg_1h")

    def smoothing(self) -> tuple[str, str, int]:
        """The smoothed series' expression, its comment, and how far back its centre lies (minutes)."""
        if self.same_minute:
            expr = f"({self.metric} + {self.metric} offset 1h + {self.metric} offset 2h) / 3"
            why = "The count at this minute of the hour, averaged over the last three hours (its centre is an hour\n"
            return expr, why + "ago): a sawtooth tied to the clock keeps its phase.", 60
        return f"avg_over_time({self.metric}[1h])", "The hourly average (its centre is half an hour ago).", 30

    @property
    def weeks_ago(self) -> str:
        return f"{self.smoothed}_weeks_ago"

    @property
    def days_ago(self) -> str:
        return f"{self.smoothed}_days_ago"

    @property
    def quiet_day(self) -> str:
        return self.series("quietest_day")

    @property
    def baseline(self) -> str:
        return self.series("baseline")

    @property
    def spread(self) -> str:
        return self.series("stddev_weeks")

    @property
    def upper(self) -> str:
        return self.series("band_upper")

    @property
    def lower(self) -> str:
        return self.series("band_lower")

    def latest(self, series: str) -> str:
        """A series of this group read from a group evaluated every 15 s: its last value within two of its runs."""
        return f"last_over_time({series}[10m])"


def _offset(hours: int, back_minutes: int) -> str:
    """`hours` back, less the smoothing's lag: the smoothed value centred on the same moment then."""
    minutes = hours * 60 - back_minutes
    return f"{minutes // 60}h{minutes % 60}m" if minutes % 60 else f"{minutes // 60}h"


def band_text(band: Band, baseline: Baseline, *, ko: bool, lower: bool = False) -> str:
    """The band in words for the README: its centre, and the widest of its terms."""
    if ko:
        terms = [f"주간 표준편차의 {band.stddevs:g}배"] if band.stddevs else []
        terms += [f"{'그 값' if lower else '중앙값'}의 {band.min_ratio * 100:g}%"] if band.min_ratio else []
        terms += [f"제곱근의 {band.min_sqrt:g}배"] if band.min_sqrt else []
        widest = ", ".join(terms) + " 중 가장 큰 값"
        if lower:
            return f"최근 7일 같은 시각 가운데 두 번째로 낮은 값에서 {widest}을 뺀 값"
        return f"지난 {baseline.weeks}주 같은 시각의 중앙값에 {widest}을 더한 값"
    terms = [f"{band.stddevs:g} standard deviations across the weeks"] if band.stddevs else []
    terms += [f"{band.min_ratio * 100:g}% of it"] if band.min_ratio else []
    terms += [f"{band.min_sqrt:g} × its square root"] if band.min_sqrt else []
    widest = ", ".join(terms[:-1]) + (" and " if len(terms) > 1 else "") + terms[-1] if terms else "0"
    if lower:
        return f"the second-lowest of the same hour over the last 7 days, less the widest of {widest}"
    return f"the median of the same hour over the last {baseline.weeks} weeks, plus the widest of {widest}"


def history_text(baseline: Baseline, *, days: bool = False) -> Text:
    """How much history a seasonal alert needs before it can fire."""
    extra_en, extra_ko = (" (and 7 days)", " (그리고 7일)") if days else ("", "")
    return Text(f"{baseline.min_weeks} weeks and 1 hour{extra_en}", f"{baseline.min_weeks}주와 1시간{extra_ko}")


def _width(seasonal: Seasonal, band: Band, centre: str) -> str:
    terms = []
    if band.stddevs:
        terms.append(("spread", f"{number(band.stddevs)} * {seasonal.spread}"))
    if band.min_ratio:
        terms.append(("ratio", f"{number(band.min_ratio)} * {centre}"))
    if band.min_sqrt:
        terms.append(("counting", f"{number(band.min_sqrt)} * sqrt({centre})"))
    if not terms:
        return f"0 * {centre}"
    if len(terms) == 1:
        return terms[0][1]
    parts = "\n  or\n".join(f'  label_replace({expr}, "term", "{name}", "", "")' for name, expr in terms)
    return f"max without (term) (\n{parts}\n)"


def _days_ago(seasonal: Seasonal) -> list[Rule]:
    _, _, back = seasonal.smoothing()
    return [
        record(
            seasonal.days_ago,
            f"{seasonal.smoothed} offset {_offset(day * 24, back)}",
            labels={"days_ago": str(day)},
            comment="The same moment, this many days ago." if day == 1 else "",
        )
        for day in range(1, 8)
    ]


def _quietest_day(seasonal: Seasonal) -> Rule:
    return record(
        seasonal.quiet_day,
        f"quantile without (days_ago) (1 / 6, {seasonal.days_ago})\n"
        f"  and count without (days_ago) ({seasonal.days_ago}) >= 7",
        comment="The second-lowest of the last 7 days at this hour (quantile 1/6 of 7 values): the quietest usual\n"
        "day, robust to one odd day. The drop band hangs under it.",
    )


def baseline_group(
    name: str,
    seasonal: Seasonal,
    baseline: Baseline,
    *,
    upper: Band | None,
    lower: Band | None,
    fallback_days: int = 0,
) -> Group:
    """The baseline group. `fallback_days`: until the weeks hold enough history, the busiest of the same moment over
    the last 7 days stands in once this many of them have data (0: no stand-in)."""
    expr, why, back = seasonal.smoothing()
    rules: list[Rule] = [record(seasonal.smoothed, expr, comment=why + " Recorded every 5 minutes.")]
    for week in range(1, baseline.weeks + 1):
        rules.append(
            record(
                seasonal.weeks_ago,
                f"{seasonal.smoothed} offset {_offset(week * WEEK_HOURS, back)}",
                labels={"weeks_ago": str(week)},
                comment="The same moment, this many weeks ago." if week == 1 else "",
            )
        )
    if fallback_days or lower is not None:
        rules += _days_ago(seasonal)
    weekly = (
        f"quantile without (weeks_ago) (0.5, {seasonal.weeks_ago})\n"
        f"  and count without (weeks_ago) ({seasonal.weeks_ago}) >= {baseline.min_weeks}"
    )
    comment = f"The median of the weeks, once at least {baseline.min_weeks} of them have data."
    if fallback_days:
        weekly += (
            f"\nor\nmax without (days_ago) ({seasonal.days_ago})\n"
            f"  and count without (days_ago) ({seasonal.days_ago}) >= {fallback_days}"
        )
        comment += (
            f" Until then, the busiest of the\nsame moment over the last 7 days, once {fallback_days} of them have "
            "data: a project is new for days, not weeks.\nIt knows no weekly rhythm yet, so it takes the busiest day, "
            "not the median: a Monday morning is not a spike."
        )
    rules.append(record(seasonal.baseline, weekly, comment=comment))
    rules.append(record(seasonal.spread, f"stddev without (weeks_ago) ({seasonal.weeks_ago})"))
    if upper is not None:
        rules.append(record(seasonal.upper, f"{seasonal.baseline} + {_width(seasonal, upper, seasonal.baseline)}"))
    if lower is not None:
        rules.append(_quietest_day(seasonal))
        width = _width(seasonal, lower, seasonal.quiet_day)
        rules.append(record(seasonal.lower, f"clamp_min({seasonal.quiet_day} - {width}, 0)"))
    first = f"{fallback_days} days" if fallback_days else f"{baseline.min_weeks} weeks"
    group_comment = (
        f"The seasonal baseline of {seasonal.metric}: the median of the same moment of the week over the last\n"
        f"{baseline.weeks} weeks, and a band around it (allim/rules/seasonal.py says why). No history, no alert: it\n"
        f"exists once {first} have data; until then the absolute rules cover the series."
    )
    return Group(name, rules, interval_s=300, comment=group_comment)
