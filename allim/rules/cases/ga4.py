"""promtool cases for ga4.yml: seasonal spikes and drops, traffic at zero, error pages."""

from __future__ import annotations

import math

from allim.rules import ga4
from allim.rules.cases import Case, CaseError, PromtoolFile, rule_named
from allim.rules.cases.expect import firing
from allim.rules.cases.series import selector
from allim.rules.cases.weekly import CHECK_UNTIL, STEP, TEST_AT, TEST_DAY, expected, fire_time, series
from allim.rules.config import Objectives
from allim.rules.model import Rule

BASE = {"job": "allim-exporter", "instance": "exporter:8877"}


def prop(name: str) -> dict[str, str]:
    return {**BASE, "property": name}


def _usual(day: int, minute: int) -> float:
    """Realtime users through a week: weekdays busy in office hours with a Monday-morning surge, quiet nights,
    weekends at a third of a weekday."""
    hour = minute // 60
    if day % 7 >= 5:
        return 80 if 8 <= hour < 22 else 20
    if hour < 7 or hour >= 18:
        return 20 if hour < 7 else 60
    if 9 <= hour < 12:
        return 260 if day % 7 == 0 else 200
    return 120 if hour < 9 else 180


def _holiday_today(day: int, minute: int) -> float:
    """The test Monday is a public holiday: it looks like a Sunday."""
    return _usual(6, minute) if day == TEST_DAY else _usual(day, minute)


def _outage_two_weeks_ago(day: int, minute: int) -> float:
    return 0 if day == TEST_DAY - 14 else _usual(day, minute)


def _holiday_last_week(day: int, minute: int) -> float:
    return _usual(6, minute) if day == TEST_DAY - 7 else _usual(day, minute)


def seasonal_case(rules: list[Rule], objectives: Objectives) -> Case:
    spike, drop = objectives.ga4.spike, objectives.ga4.drop
    band = expected(_usual, objectives.baseline, upper=spike.band, lower=drop.band)
    if band.baseline is None or band.upper is None or band.lower is None:
        raise CaseError("baseline.min_weeks: four weeks of history give no baseline")
    high, low = math.floor(band.upper), math.ceil(band.lower)
    if low < 1:
        raise CaseError("ga4.drop.band_min_ratio: the lower band is at zero, no drop can be tested above it")
    case = Case(
        STEP,
        comment=(
            f"Spikes, drops and zero at {STEP}-minute steps: four weeks of realtime users with a weekly rhythm, then a "
            "Monday\nwhose 10:00 is the test. usual is a usual Monday (its morning surge is in the baseline); holiday "
            "is a\nholiday that looks like a Sunday; outage had tracking broken two weeks ago and holiday-last-week a "
            "holiday a\nweek ago (the median ignores both). spike-edge sits on the upper band from 10:00, spike just "
            "above it;\ndrop-edge on the lower band, drop just below it; zero loses every user; new has two hours of "
            "history and\nloses them too (zero needs no baseline); new-spike has no history and a huge level."
        ),
    )
    properties: dict[str, list[float | None]] = {
        "usual": series(_usual),
        "holiday": series(_holiday_today),
        "outage": series(_outage_two_weeks_ago),
        "holiday-last-week": series(_holiday_last_week),
        "spike-edge": series(_usual, change=lambda d, m: high),
        "spike": series(_usual, change=lambda d, m: high + 1),
        "drop-edge": series(_usual, change=lambda d, m: low),
        "drop": series(_usual, change=lambda d, m: low - 1),
        "zero": series(_usual, change=lambda d, m: 0),
        "new": series(lambda d, m: 80, first_day=TEST_DAY, change=lambda d, m: 0),
        "new-spike": series(lambda d, m: 5000, first_day=TEST_DAY),
    }
    for name, values in properties.items():
        case.add(selector(ga4.USERS, prop(name)), values)
    base = band.baseline
    spiking = (
        [firing(rule_named(rules, "Ga4TrafficSpike"), prop("spike"), (high + 1) / base)]
        if high + 1 >= spike.floor
        else []
    )
    dropping = [
        firing(rule_named(rules, "Ga4TrafficDrop"), prop(name), level / base)
        for name, level in (("drop", low - 1), ("zero", 0))
        if base >= drop.floor
    ]
    zero_at = fire_time(objectives.ga4.zero_for_s)
    zero = rule_named(rules, "Ga4TrafficZero")
    for alertname, fires, when in (
        ("Ga4TrafficSpike", spiking, fire_time(spike.for_s)),
        ("Ga4TrafficDrop", dropping, fire_time(drop.for_s)),
        ("Ga4TrafficZero", [firing(zero, prop("zero"), 0), firing(zero, prop("new"), 0)], zero_at),
    ):
        case.expect(when - STEP, alertname, [])
        case.expect(when, alertname, fires)
        # new has no history: its zero alert clears once its users have left the last hour.
        later = [entry for entry in fires if entry["exp_labels"]["property"] != "new" or CHECK_UNTIL - 60 < TEST_AT]
        case.expect(CHECK_UNTIL, alertname, later)
    return case


def zero_case(rules: list[Rule], objectives: Objectives) -> Case:
    """Traffic at zero without any history: a property that had users within the hour loses them all."""
    zero = rule_named(rules, "Ga4TrafficZero")
    floor = objectives.ga4.zero_floor
    hold = objectives.ga4.zero_for_s // 60
    case = Case(
        1,
        comment=f"Zero without history: gone had {floor:g} users for 30 minutes, then none; small had {floor - 1:g} "
        "(under the floor)\nthen none; empty never had any.",
    )
    case.add(selector(ga4.USERS, prop("gone")), [floor] * 30 + [0.0] * (hold + 30))
    case.add(selector(ga4.USERS, prop("small")), [floor - 1] * 30 + [0.0] * (hold + 30))
    case.add(selector(ga4.USERS, prop("empty")), [0.0] * (hold + 60))
    case.expect(30 + hold - 1, "Ga4TrafficZero", [])
    case.expect(30 + hold, "Ga4TrafficZero", [firing(zero, prop("gone"), 0)])
    return case


def error_pages_case(rules: list[Rule], objectives: Objectives) -> Case:
    rule = rule_named(rules, "Ga4ErrorPageViewsRising")
    ratio, floor = objectives.ga4.error_page_ratio, objectives.ga4.error_page_floor
    hold = objectives.ga4.error_page_for_s // 60
    usual = float(max(10, math.ceil(floor)))
    at_floor = float(math.ceil(floor))
    levels = {"p1": usual * (ratio + 0.5), "p2": usual * ratio, "p3": max(0.0, at_floor - 1), "p4": at_floor}
    bases = {"p1": usual, "p2": usual, "p3": 1.0, "p4": float(max(1, math.floor(at_floor / (ratio + 0.5))))}
    case = Case(
        5,
        comment=f"Error pages: 400 minutes of their usual views, then p1 at {ratio + 0.5:g}x (fires), p2 at exactly "
        f"{ratio:g}x (no), p3\nat several times but under the {floor:g}-view floor (no), p4 above the ratio at the "
        "floor (fires).",
    )
    for name in levels:
        case.add(selector("ga4_error_page_views", prop(name)), [bases[name]] * 80 + [levels[name]] * (hold // 5 + 6))
    start = 80 * 5
    case.expect(start + hold - 5, "Ga4ErrorPageViewsRising", [])
    fires = [
        firing(rule, prop(name), levels[name] / max(bases[name], 1))
        for name in levels
        if levels[name] / max(bases[name], 1) > ratio and levels[name] >= floor
    ]
    case.expect(start + hold, "Ga4ErrorPageViewsRising", fires)
    return case


def promtool_files(objectives: Objectives) -> list[PromtoolFile]:
    rule_file = ga4.rule_file(objectives.ga4, objectives.baseline)
    rules = [rule for group in rule_file.groups for rule in group.rules]
    groups = [group.name for group in rule_file.groups]
    main = PromtoolFile(
        "ga4", "", 1, [zero_case(rules, objectives), error_pages_case(rules, objectives)], groups=groups
    )
    baseline = PromtoolFile(
        "ga4",
        "baseline",
        STEP,
        [seasonal_case(rules, objectives)],
        comment=f"Weeks of history for the seasonal baseline, evaluated every {STEP} minutes.",
        groups=groups,
    )
    return [main, baseline]
