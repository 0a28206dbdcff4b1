"""promtool cases for sentry.yml: the ceiling, new issues, slow transactions, and the seasonal spike."""

from __future__ import annotations

import math
import statistics

from allim.rules import sentry
from allim.rules.cases import Case, CaseError, PromtoolFile, rule_named
from allim.rules.cases.expect import firing
from allim.rules.cases.promql import fires
from allim.rules.cases.series import Value, selector
from allim.rules.cases.weekly import CHECK_UNTIL, STEP, TEST_AT, TEST_DAY, expected, series
from allim.rules.config import Objectives
from allim.rules.model import Rule

BASE = {"job": "allim-exporter", "instance": "exporter:8877"}


def project(name: str) -> dict[str, str]:
    return {**BASE, "project": name}


def per_hour(count: float, minute: int) -> float:
    """The ceiling rules' errors an hour at `minute` (promtool starts at Unix time 0, on a full hour): the count over
    the span it covers, from the start of the previous hour (sentry.PER_HOUR), in Prometheus' float arithmetic."""
    return count * 3600 / (3600 + (minute * 60) % 3600)


def counts_at_rate(rate: float, minutes: int) -> list[Value]:
    """The exporter's count, minute by minute, of a project logging `rate` errors an hour: it climbs through each
    hour (the span grows from one hour to two). Each count is the one promtool reads back (10 significant digits),
    never above the rate once divided, so a case sitting on a ceiling stays on it."""
    values: list[Value] = []
    for minute in range(minutes):
        exact = rate * (60 + minute % 60) / 60
        written = float(f"{exact:.10g}")
        if per_hour(written, minute) > rate:
            scale = 10 ** (9 - math.floor(math.log10(exact)))
            written = float(f"{math.floor(exact * scale) / scale:.10g}")
        values.append(written)
    return values


def ceiling_case(rules: list[Rule], objectives: Objectives) -> Case:
    limits = objectives.sentry.ceiling
    hold = objectives.sentry.ceiling_for_s // 60
    high = rule_named([r for r in rules if "project=" not in r.body["expr"]], "SentryErrorRateHigh", "high")
    critical = rule_named([r for r in rules if "project=" not in r.body["expr"]], "SentryErrorRateHigh", "critical")
    rates = {"web": limits.high, "api": limits.high + 1, "shop": limits.critical, "batch": limits.critical + 1}
    case = Case(
        1,
        comment=f"Errors an hour: web at {limits.high:g} (not above the high ceiling), api at {limits.high + 1:g} "
        f"(high), shop at {limits.critical:g} (high,\nnot critical), batch at {limits.critical + 1:g} (high and "
        "critical); the exporter's count climbs through the hour, the rate stays.",
    )
    counts = {name: counts_at_rate(rate, hold + 16) for name, rate in rates.items()}
    for name, values in counts.items():
        case.add(selector(sentry.ERRORS, project(name)), values)

    def value(name: str) -> float:
        count = counts[name][hold]
        assert count is not None
        return per_hour(count, hold)

    case.expect(hold - 1, "SentryErrorRateHigh", [])
    expect = [firing(high, project(name), value(name)) for name in ("api", "shop", "batch")]
    expect.append(firing(critical, project("batch"), value("batch")))
    case.expect(hold, "SentryErrorRateHigh", expect)
    return case


def sawtooth_case(rules: list[Rule], objectives: Objectives) -> Case:
    """A busy project whose count nears twice the ceiling late in each hour is not above it: the rule divides by
    the span. The same count early in the hour is."""
    limits = objectives.sentry.ceiling
    hold = objectives.sentry.ceiling_for_s // 60
    high = rule_named([r for r in rules if "project=" not in r.body["expr"]], "SentryErrorRateHigh", "high")
    late = 2 * limits.high * 0.95  # from :54 the span is 114 minutes or more: at most the ceiling an hour
    case = Case(
        1,
        comment=f"web's count reads {late:g} from :54 to :59 (at most the ceiling an hour over a span near two "
        "hours; a rule on the\nraw count would fire at :59), then the same count from 1:00 (an hour's span: twice "
        "the ceiling).",
    )
    values: list[Value] = [0.0] * 54
    values += [late] * (30 + hold)
    case.add(selector(sentry.ERRORS, project("web")), values)
    case.expect(59, "SentryErrorRateHigh", [])
    case.expect(60 + hold, "SentryErrorRateHigh", [firing(high, project("web"), per_hour(late, 60 + hold))])
    return case


def own_ceiling_cases(rules: list[Rule], objectives: Objectives) -> list[Case]:
    """A project with its own ceiling: quiet at it, firing above it."""
    cases = []
    for name, limits in sorted(objectives.sentry.projects.items()):
        hold = objectives.sentry.ceiling_for_s // 60
        own = [r for r in rules if f'project="{name}"' in r.body["expr"]]
        case = Case(1, comment=f"{name} has its own ceiling: {limits.high:g} quiet, {limits.high + 1:g} high.")
        quiet = counts_at_rate(limits.high, 3)
        over = counts_at_rate(limits.high + 1, 3 + hold + 10)[3:]
        case.add(selector(sentry.ERRORS, project(name)), quiet + over)
        case.expect(2 + hold, "SentryErrorRateHigh", [])
        last = over[hold]
        assert last is not None
        case.expect(
            3 + hold,
            "SentryErrorRateHigh",
            [firing(rule_named(own, "SentryErrorRateHigh", "high"), project(name), per_hour(last, 3 + hold))],
        )
        cases.append(case)
    return cases


def issue_cases(rules: list[Rule], objectives: Objectives) -> list[Case]:
    new_issue = rule_named(rules, "SentryNewIssue")
    hold = objectives.sentry.new_issue_for_s // 60
    new = Case(1, comment="New issues: web has none, api gets one at 3m.")
    new.add(selector("sentry_project_new_issues", project("web")), [0.0] * (hold + 20))
    new.add(selector("sentry_project_new_issues", project("api")), [0.0] * 3 + [1.0] * (hold + 20))
    new.expect(3 + hold - 1, "SentryNewIssue", [])
    new.expect(3 + hold, "SentryNewIssue", [firing(new_issue, project("api"), 1)])
    slow = rule_named(rules, "SentrySlowTransactions")
    limit = objectives.sentry.slow_transactions
    hold = objectives.sentry.slow_transactions_for_s // 60
    transactions = Case(1, comment=f"Slow transactions: web at {limit:g} (not above), api at {limit + 1:g}.")
    transactions.add(selector("sentry_project_slow_transactions", project("web")), [limit] * (hold + 10))
    transactions.add(selector("sentry_project_slow_transactions", project("api")), [limit + 1] * (hold + 10))
    transactions.expect(hold - 1, "SentrySlowTransactions", [])
    transactions.expect(hold, "SentrySlowTransactions", [firing(slow, project("api"), limit + 1)])
    return [new, transactions]


def _usual(day: int, minute: int) -> float:
    """Errors of the last hour through a week: quiet nights and weekends, busier weekdays, Monday mornings busiest
    (a release day)."""
    hour = minute // 60
    if day % 7 >= 5:
        return 5
    if hour < 7 or hour >= 18:
        return 5 if hour < 7 else 10
    if day % 7 == 0 and 8 <= hour < 13:
        return 40
    if 9 <= hour < 12:
        return 30
    return 20 if hour < 9 else 25


def _zero(day: int, minute: int) -> float:
    return 0


def _storm_two_weeks_ago(day: int, minute: int) -> float:
    return 400 if day == TEST_DAY - 14 and 7 <= minute // 60 < 14 else _usual(day, minute)


def _same_minute_baseline(values: list[Value], t: int, objectives: Objectives) -> tuple[float, float] | None:
    """The baseline and the weeks' spread the sentry-baseline group records at minute t (allim/rules/seasonal.py,
    same_minute): the count at the same minute, averaged over three hours, a week (or, for a new project, a day)
    ago; None where there is not enough history."""

    def at(minute: int) -> float | None:
        return values[minute // STEP] if 0 <= minute and minute // STEP < len(values) else None

    def smoothed(minute: int) -> float | None:
        points = [at(minute), at(minute - 60), at(minute - 120)]
        return None if None in points else sum(p for p in points if p is not None) / 3

    weeks = [v for k in range(1, objectives.baseline.weeks + 1) if (v := smoothed(t - k * 7 * 1440 + 60)) is not None]
    if len(weeks) >= objectives.baseline.min_weeks:
        return statistics.median(weeks), statistics.pstdev(weeks)
    days = [v for d in range(1, 8) if (v := smoothed(t - d * 1440 + 60)) is not None]
    fallback = objectives.sentry.spike_fallback_days
    if fallback and len(days) >= fallback:
        return max(days), statistics.pstdev(weeks) if weeks else 0.0
    return None


def spike_case(rules: list[Rule], objectives: Objectives) -> Case:
    spike_rule = rule_named(rules, "SentryErrorSpike")
    spike = objectives.sentry.spike
    band = spike.band
    usual = expected(_usual, objectives.baseline, upper=band, lower=None)
    quiet = expected(_zero, objectives.baseline, upper=band, lower=None)
    if usual.upper is None or usual.baseline is None or quiet.upper is None:
        raise CaseError("baseline.min_weeks: four weeks of history give no baseline")
    edge = math.floor(usual.upper)
    quiet_edge = max(math.floor(quiet.upper), math.ceil(spike.floor) - 1)
    case = Case(
        STEP,
        comment=(
            f"The seasonal spike, at {STEP}-minute steps: four weeks of errors with a daily and weekly rhythm, then a "
            "Monday\nwhose 10:00 is the test. steady is a usual Monday (its busy morning is in the baseline); edge "
            "sits on the\nupper band from 10:00, over just above it; quiet has no errors at all, then the floor less "
            "one (quiet-edge)\nor the floor (quiet-over); storm had an error storm two weeks ago (the median ignores "
            "it); new has no\nhistory and fresh one day (neither has a baseline); young has two weeks, its last "
            "Monday busy: too few weeks, so\nthe busiest of the last 7 days stands in (young-monday's busy Monday "
            "again and young-rising's 1.5x stay quiet,\nyoung's threefold one fires); sawtooth climbs "
            "through each hour as the\nexporter's count does, and its baseline keeps the phase."
        ),
    )

    def young(day: int, minute: int) -> float:
        return 100 if day == TEST_DAY - 7 else 20  # its one Monday so far was busy

    projects = {
        "steady": series(_usual),
        "edge": series(_usual, change=lambda d, m: edge),
        "over": series(_usual, change=lambda d, m: edge + 1),
        "quiet-edge": series(_zero, change=lambda d, m: quiet_edge),
        "quiet-over": series(_zero, change=lambda d, m: quiet_edge + 1),
        "storm": series(_storm_two_weeks_ago),
        "new": series(lambda d, m: 200, first_day=TEST_DAY),
        "fresh": series(lambda d, m: 20, first_day=TEST_DAY - 1, change=lambda d, m: 150),
        "young": series(young, first_day=TEST_DAY - 14, change=lambda d, m: 300),
        "young-monday": series(young, first_day=TEST_DAY - 14, change=lambda d, m: 100),
        "young-rising": series(young, first_day=TEST_DAY - 14, change=lambda d, m: 150),
        # The count as the exporter shows it: from the start of the previous hour, so it climbs through each hour.
        "sawtooth": series(lambda d, m: 40 if m % 60 else 30),
    }
    for name, values in projects.items():
        case.add(selector(sentry.ERRORS, project(name)), values)

    def firing_at(t: int) -> list[dict[str, object]]:
        out = []
        for name, values in projects.items():

            def condition(step: int, values: list[Value] = values) -> float | None:
                found = _same_minute_baseline(values, step * STEP, objectives)
                count = values[step]
                if found is None or count is None:
                    return None
                base, spread = found
                upper = base + max(band.stddevs * spread, band.min_ratio * base, band.min_sqrt * math.sqrt(base))
                return count / max(base, 1) if count > upper and count - base >= spike.floor else None

            value = fires(condition, t // STEP, math.ceil(spike.for_s / 60 / STEP))
            if value is not None:
                out.append(firing(spike_rule, project(name), value))
        return out

    first = next(t for t in range(TEST_AT, CHECK_UNTIL + STEP, STEP) if firing_at(t) or t == CHECK_UNTIL)
    for t in sorted({first - STEP, first, CHECK_UNTIL}):
        case.expect(t, "SentryErrorSpike", firing_at(t))
    case.expect_expr(
        TEST_AT,
        f'{sentry.SEASONAL.baseline}{{project=~"steady|storm"}}',
        [(selector(sentry.SEASONAL.baseline, project(name)), usual.baseline) for name in ("steady", "storm")],
    )
    # The smoothing keeps the sawtooth's phase: at half past, the counts at half past of the last three hours.
    case.expect_expr(
        TEST_AT + 30,
        f'{sentry.SEASONAL.smoothed}{{project="sawtooth"}}',
        [(selector(sentry.SEASONAL.smoothed, project("sawtooth")), 40.0)],
    )
    return case


def promtool_files(objectives: Objectives) -> list[PromtoolFile]:
    rule_file = sentry.rule_file(objectives.sentry, objectives.baseline)
    rules = [rule for group in rule_file.groups for rule in group.rules]
    groups = [group.name for group in rule_file.groups]
    main = PromtoolFile(
        "sentry",
        "",
        1,
        [
            ceiling_case(rules, objectives),
            sawtooth_case(rules, objectives),
            *own_ceiling_cases(rules, objectives),
            *issue_cases(rules, objectives),
        ],
        groups=groups,
    )
    baseline = PromtoolFile(
        "sentry",
        "baseline",
        STEP,
        [spike_case(rules, objectives)],
        comment=f"Weeks of history for the seasonal baseline, evaluated every {STEP} minutes.",
        groups=groups,
    )
    return [main, baseline]
