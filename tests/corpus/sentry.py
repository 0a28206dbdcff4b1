"""Sentry error counts as the exporter shows them: `sentry_project_errors{project}`, once a minute.

How the real thing behaves, and so how the series look:
- Errors arrive with the traffic that causes them (traffic.py), plus a floor that does not (cron jobs, health
  checks). They come in clusters, not one by one: one user retrying a broken page, one job failing on every row.
  Cluster sizes are heavy-tailed (most 1, a few dozen), so counts are over-dispersed against a Poisson.
- Small projects are mostly zeros: the batch worker logs a few errors some nights when its 02:00 run fails, and on
  some Mondays when the 06:00 report job does.
- The window is not a trailing hour. The exporter asks stats_v2 for `statsPeriod=1h&interval=1h`, and Sentry
  rounds the start of the range down to the interval (sentry/snuba/sessions_v2.py `get_constrained_date_range`,
  test `test_round_range`: at 03:21, `statsPeriod=2d` starts at 03:00 two days earlier). So at 12:27 the count
  covers 11:00-12:27: between one and two hours of errors, a sawtooth that drops at every full hour. Outcomes
  reach the stats a minute or so late, and the exporter's poll is up to a minute old.
"""

from __future__ import annotations

from tests.corpus import clock, scenario
from tests.corpus.history import MISSING, Series
from tests.corpus.noise import Noise
from tests.corpus.scenario import Project
from tests.corpus.traffic import PREROLL

CLUSTER_ALPHA = 2.2
CLUSTER_CAP = 40
MEAN_CLUSTER = sum(k**-CLUSTER_ALPHA for k in range(1, CLUSTER_CAP + 1))  # E[min(floor(Pareto), cap)]
RELEASE_FACTOR = 2.1
LAG_MINUTES = 1


def _ramp(minute: int, first: int, last: int, rise: int, fall: int) -> float:
    """0 outside [first, last + fall), rising over `rise` minutes and falling over `fall` after `last`."""
    if minute < first or minute >= last + fall:
        return 0.0
    if minute < first + rise:
        return (minute - first + 1) / rise
    if minute >= last:
        return 1 - (minute - last + 1) / fall
    return 1.0


def _expected(project: Project, minute: int, activity: float) -> tuple[float, float]:
    """(clustered errors per minute, storm errors per minute) expected at `minute`."""
    rate = (project.base_per_hour + project.traffic_per_hour * activity) / 60
    storm = 0.0
    for event in scenario.events(target=project.slug):
        if event.kind == "release":  # a rolling deploy takes 15 minutes to reach every instance
            rate *= 1 + (RELEASE_FACTOR - 1) * _ramp(minute, event.first, event.last, 15, 10)
        elif event.kind == "storm":
            storm += event.size * _ramp(minute, event.first, event.last, 2, 3)
    return rate, storm


def _batch_failures(noise: Noise, minute: int) -> int:
    """The batch worker's own errors: its nightly 02:00 run fails about one night in four, the Monday 06:00
    report about one week in three; each failure logs a handful of errors in its first minutes."""
    start_of_day = minute - minute % 1440
    if minute - start_of_day == 2 * 60 + 1 and noise.chance(0.25):
        return noise.integer(3, 8)
    if clock.weekday(minute) == 0 and minute - start_of_day == 6 * 60 + 2 and noise.chance(0.3):
        return noise.integer(4, 12)
    return 0


def errors_per_minute(project: Project, activity: list[float], seed: int) -> list[int]:
    """Events per minute for minutes -PREROLL ... MINUTES-1, zeros before the project existed."""
    noise = Noise(seed, f"sentry/{project.slug}")
    added = scenario.added_minute(project.added)
    counts = []
    for minute in range(-PREROLL, clock.MINUTES):
        if minute < added:
            counts.append(0)
            continue
        rate, storm = _expected(project, minute, activity[minute + PREROLL])
        clusters = noise.poisson(rate / MEAN_CLUSTER)
        events = sum(noise.heavy_tail(CLUSTER_ALPHA, CLUSTER_CAP) for _ in range(clusters))
        events += noise.poisson(storm)
        if project.slug == "batch":
            events += _batch_failures(noise, minute)
        counts.append(events)
    return counts


def window_start(minute: int) -> int:
    """The first minute stats_v2 counts when polled at `minute`: the full hour before the hour an hour ago."""
    hour_ago = minute - 60
    return hour_ago - hour_ago % 60


def exported(project: Project, counts: list[int]) -> list[float]:
    """What `sentry_project_errors` reads at each minute: events from window_start to the last ingested minute."""
    prefix = [0]
    for count in counts:
        prefix.append(prefix[-1] + count)
    added = scenario.added_minute(project.added)
    values = [MISSING] * clock.MINUTES
    for minute in range(added, clock.MINUTES):
        first, end = window_start(minute) + PREROLL, minute - LAG_MINUTES + PREROLL
        values[minute] = float(prefix[end] - prefix[max(first, 0)])
    return values


def series(activity: list[float], seed: int) -> list[Series]:
    result = []
    for project in scenario.PROJECTS:
        labels = {"job": scenario.JOB, "instance": scenario.INSTANCE, "project": project.slug}
        values = exported(project, errors_per_minute(project, activity, seed))
        result.append(Series.of("sentry_project_errors", labels, values))
    return result
