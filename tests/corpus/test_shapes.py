"""The corpus looks like what it claims: the weekly cycle, the holiday, each labelled incident visible in its raw
series, and the everyday events that must not page present and unlabelled."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import pytest

from tests.corpus import clock, scenario, sentry
from tests.corpus.reading import Corpus, mean, present, runs
from tests.corpus.scenario import Event

pytestmark = pytest.mark.slow  # the corpus takes seconds to build: not for the quick pass

WEEK = 7 * 1440


def _users(corpus: Corpus) -> list[float]:
    return list(corpus.one("ga4_active_users").values)


def _day_mean(values: list[float], day: int) -> float:
    return mean(values[day * 1440 : (day + 1) * 1440])


def test_ga4_has_a_weekly_cycle_with_a_weekend_dip(corpus: Corpus) -> None:
    users = _users(corpus)
    ordinary = [d for d in range(7, 35) if not scenario.near_incident("Ga4", d * 1440 + 720, margin=720)]  # weeks 2-5
    weekdays = [_day_mean(users, d) for d in ordinary if clock.weekday(d * 1440) < 5]
    weekends = [_day_mean(users, d) for d in ordinary if clock.weekday(d * 1440) >= 5]
    assert 0.55 < mean(weekends) / mean(weekdays) < 0.8, "the weekend dip"
    assert max(weekends) < statistics.median(weekdays), "even the busiest weekend day"
    night = mean([users[d * 1440 + 4 * 60] for d in ordinary])
    evening = mean([users[d * 1440 + 21 * 60] for d in ordinary])
    assert evening > 5 * night, "the day's cycle: 21:00 against 04:00"


def test_ga4_surges_on_monday_mornings(corpus: Corpus) -> None:
    users = _users(corpus)
    for monday in (7, 14, 21, 28, 35, 49):  # every Monday but Seollal's
        morning = [mean(users[(monday + d) * 1440 + 9 * 60 + 30 : (monday + d) * 1440 + 11 * 60]) for d in range(4)]
        assert morning[0] > 1.25 * mean(morning[1:]), f"{clock.moment(monday * 1440):%m-%d}: Monday against Tue-Thu"


def test_ga4_is_quiet_over_seollal(corpus: Corpus) -> None:
    users = _users(corpus)
    for day in (42, 43, 44):  # 16-18 February
        assert clock.is_holiday(day * 1440)
        assert _day_mean(users, day) < 0.6 * _day_mean(users, day - 7), f"{clock.moment(day * 1440):%m-%d}"


def test_ga4_grows_slowly(corpus: Corpus) -> None:
    users = _users(corpus)
    first, last = (sum(_day_mean(users, w * 7 + d) for d in (1, 3)) for w in (1, 5))  # Tuesdays and Thursdays
    assert 1.02 < last / first < 1.25, "about 1.5% a week"


def _around(values: list[float], event: Event, weeks: int) -> list[float]:
    return values[event.first + weeks * WEEK : event.last + weeks * WEEK]


def _normal(values: list[float], event: Event) -> float:
    """The same window a week before (or after, for a project that did not exist a week before)."""
    before = present(_around(values, event, -1)) if event.first >= WEEK else []
    return mean(before or _around(values, event, 1))


def _hetrixtools(corpus: Corpus, event: Event) -> list[float]:
    monitor = next(m for m in scenario.MONITORS if m.key == event.target)
    return list(corpus.one("hetrixtools_monitor_up", monitor_id=monitor.id).values)


def _sentry(corpus: Corpus, event: Event) -> list[float]:
    return list(corpus.one("sentry_project_errors", project=event.target).values)


def _outage(corpus: Corpus, event: Event) -> None:
    up = _hetrixtools(corpus, event)[event.first : event.last + 2]
    assert up.count(0.0) >= 0.9 * (event.last - event.first), "down for the whole outage, give or take a check"


def _flapping(corpus: Corpus, event: Event) -> None:
    up = _hetrixtools(corpus, event)[event.first : event.last]
    assert 0.06 < up.count(0.0) / len(up) < 0.16, "about one check in ten fails"
    assert max(length for _, length in runs(up, lambda v: v == 0)) <= 2, "never down for long"


def _storm(corpus: Corpus, event: Event) -> None:
    errors = _sentry(corpus, event)
    assert max(errors[event.first : event.last]) > 4 * _normal(errors, event)


def _release(corpus: Corpus, event: Event) -> None:
    errors = _sentry(corpus, event)
    assert 1.7 < mean(errors[event.first + 60 : event.last]) / _normal(errors, event) < 2.6


def _tracking_outage(corpus: Corpus, event: Event) -> None:
    users = _users(corpus)
    assert users[event.first - 1] > 300
    if event.size == 0:
        assert set(users[event.first + 31 : event.last]) == {0.0}, "zero from half an hour after the snippet went"
    else:
        kept = mean(users[event.first + 31 : event.last]) / _normal(users, event)
        assert event.size - 0.1 < kept < event.size + 0.1, "the share that still reaches GA4"


def _spike(corpus: Corpus, event: Event) -> None:
    users = _users(corpus)
    assert max(users[event.first : event.last]) > 2.5 * max(_around(users, event, -1))


def _cpu(corpus: Corpus, event: Event) -> None:
    assert statistics.median(corpus.one("host_cpu_usage_ratio").values[event.first : event.last]) > 0.9


def _memory(corpus: Corpus, event: Event) -> None:
    memory = corpus.one("host_memory_usage_ratio").values
    assert memory[event.first] < 0.7 and max(memory[event.first : event.last]) > 0.95
    assert memory[event.last] < 0.7, "the OOM kill frees it"


def _disk(corpus: Corpus, event: Event) -> None:
    usage = corpus.one("host_filesystem_usage_ratio", mountpoint=event.target).values
    rise = usage[event.last - 1] - usage[event.first]
    assert rise > 0.9 * event.size / 100 * (event.last - event.first) / 60, "filling at its rate"
    assert usage[event.last] < usage[event.last - 1] - 0.9 * rise, "cleaned up at the end"


def _exporter_down(corpus: Corpus, event: Event) -> None:
    assert set(corpus.one("up").values[event.first : event.last]) == {0.0}
    assert all(math.isnan(s.values[event.first]) for s in corpus.series if s.exporter)


def _source_failing(corpus: Corpus, event: Event) -> None:
    assert set(corpus.one("allim_source_up", source=event.target).values[event.first : event.last]) == {0.0}
    stamps = corpus.one("allim_source_last_success_timestamp_seconds", source=event.target).values
    assert set(stamps[event.first : event.last]) == {stamps[event.first - 1]}, "no success since"
    users = _users(corpus)
    assert users[event.first + 2] == users[event.first - 1], "the last value, kept for three polls"
    assert all(math.isnan(v) for v in users[event.first + 3 : event.last]), "then no sample (not zero)"


VISIBLE: dict[str, Callable[[Corpus, Event], None]] = {
    "outage": _outage,
    "flapping": _flapping,
    "storm": _storm,
    "release": _release,
    "tracking-outage": _tracking_outage,
    "spike": _spike,
    "cpu-busy": _cpu,
    "memory-leak": _memory,
    "disk-filling": _disk,
    "exporter-down": _exporter_down,
    "source-failing": _source_failing,
}


@pytest.mark.parametrize("event", scenario.incidents(), ids=lambda e: e.name)
def test_each_labelled_incident_shows_in_its_series(corpus: Corpus, event: Event) -> None:
    VISIBLE[event.kind](corpus, event)


def _outside_incidents(family: str, minute: int) -> bool:
    return not scenario.near_incident(family, minute, margin=0)


def test_monitors_blip_for_single_minutes_outside_incidents(corpus: Corpus) -> None:
    for monitor in scenario.MONITORS:
        if monitor.type == "heartbeat":
            continue
        up = corpus.one("hetrixtools_monitor_up", monitor_id=monitor.id).values
        blips = [m for m, length in runs(up, lambda v: v == 0) if length <= 2 and _outside_incidents("HetrixTools", m)]
        weeks = scenario.series_weeks("HetrixTools") / len(scenario.MONITORS)
        assert len(blips) >= 1, f"{monitor.name}: no blip in {weeks:.1f} weeks"
    assert runs(corpus.one("hetrixtools_monitor_up", monitor_name="Status page").values, lambda v: v == 0)[0][1] == 4


def test_one_location_is_slow_for_minutes_while_the_others_are_fine(corpus: Corpus) -> None:
    spells = []
    for one in corpus.named("hetrixtools_monitor_response_time_seconds"):
        spells += [(m, n) for m, n in runs(one.values, lambda v: 3 < v < 10) if _outside_incidents("HetrixTools", m)]
    assert sum(1 for _, length in spells if length >= 6) >= 3, "long enough for a 5-minute `for:`"
    assert sum(1 for _, length in spells if length < 6) >= 5


def test_cpu_and_memory_burst_briefly_outside_incidents(corpus: Corpus) -> None:
    cpu = corpus.one("host_cpu_usage_ratio").values
    bursts = [m for m, n in runs(cpu, lambda v: v > 0.8) if n >= 3 and _outside_incidents("Host", m)]
    assert len({clock.day(m) for m in bursts}) >= 10, "deploys and Sunday backups"
    memory = corpus.one("host_memory_usage_ratio").values
    nightly = [max(memory[d * 1440 + 120 : d * 1440 + 135]) for d in range(clock.MINUTES // 1440)]
    assert statistics.median(nightly) > 0.8 and max(nightly) > 0.9, "the 02:00 report job"


def test_the_database_disk_is_high_but_not_filling(corpus: Corpus) -> None:
    mountpoint = "/var/lib/postgresql"
    usage = corpus.one("host_filesystem_usage_ratio", mountpoint=mountpoint).values
    wal = scenario.events(kind="disk-filling", target=mountpoint)[0]
    normal = [*usage[: wal.first], *usage[wal.last :]]
    assert 0.8 < min(normal) and max(normal) < 0.9
    weekly = [mean(normal[w * WEEK : (w + 1) * WEEK]) for w in range(clock.WEEKS - 1)]
    assert max(weekly) - min(weekly) < 0.03, "not growing"


def test_small_projects_are_mostly_zero(corpus: Corpus) -> None:
    batch = present(corpus.one("sentry_project_errors", project="batch").values)
    assert batch.count(0.0) / len(batch) > 0.8 and max(batch) >= 3


def test_sentry_counts_from_the_previous_full_hour() -> None:
    assert sentry.window_start(clock.at("2026-01-05 12:27")) == clock.at("2026-01-05 11:00")
    assert sentry.window_start(clock.at("2026-01-05 12:00")) == clock.at("2026-01-05 11:00")
    assert sentry.window_start(clock.at("2026-01-05 12:59")) == clock.at("2026-01-05 11:00")


def test_sentry_counts_saw_at_every_full_hour(corpus: Corpus) -> None:
    errors = corpus.one("sentry_project_errors", project="backend").values
    late = mean([errors[m] for m in range(clock.MINUTES) if m % 60 == 59])
    early = mean([errors[m] for m in range(clock.MINUTES) if m % 60 == 1])
    assert 1.6 < late / early < 2.1, "two hours' worth just before the hour, one just after"


def test_things_added_mid_corpus_have_no_samples_before(corpus: Corpus) -> None:
    status = next(m for m in scenario.MONITORS if m.added)
    mobile = next(p for p in scenario.PROJECTS if p.added)
    for one, added in (
        (corpus.one("hetrixtools_monitor_up", monitor_id=status.id), status.added),
        (corpus.one("sentry_project_errors", project=mobile.slug), mobile.added),
    ):
        first = clock.at(added or "")
        assert all(math.isnan(v) for v in one.values[:first]) and not math.isnan(one.values[first])


def test_no_exporter_series_has_a_sample_while_up_is_zero(corpus: Corpus) -> None:
    down = [m for m, value in enumerate(corpus.one("up").values) if value == 0]
    assert len(down) == 26 + len(scenario.EXPORTER_RESTARTS)
    assert all(math.isnan(s.values[m]) for s in corpus.series if s.exporter for m in down)


def test_series_weeks_count_things_from_when_they_were_added() -> None:
    assert scenario.series_weeks("Ga4") == clock.WEEKS
    assert scenario.series_weeks("HetrixTools") == pytest.approx(
        4 * clock.WEEKS + (clock.MINUTES - clock.at("2026-02-04 15:00")) / WEEK
    )
