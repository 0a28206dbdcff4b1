"""GA4 realtime users as the exporter shows them: `ga4_active_users{property}`, once a minute.

How the real thing behaves, and so how the series look:
- `activeUsers` of a realtime report with no minute ranges counts the distinct users GA4 received an event from
  in the last 30 minutes. Users arrive with the shop's activity (traffic.py), ~25 a minute on a weekday morning,
  and a user stays counted for the 30 minutes after their last event, so the series is a rolling sum: smooth,
  lagging a change by up to half an hour, and falling to zero over 30 minutes (not at once) when tracking breaks.
- A broken tracking snippet stops the events, not the shoppers: the other sources keep seeing them. A consent
  banner that holds GA4 back until the visitor chooses loses the share that never chooses.
- When the Data API fails, the exporter serves the last good value for three polls, then drops the series (no
  sample, which is not zero) until the API answers again.
"""

from __future__ import annotations

from tests.corpus import clock, scenario
from tests.corpus.history import MISSING, Series
from tests.corpus.noise import Noise
from tests.corpus.traffic import PREROLL

USERS_PER_MINUTE = 25.0  # new users a minute at activity 1.0
WINDOW = 30
KEPT_POLLS = 3  # the exporter's max age: 3 intervals


def _tracked(minute: int) -> float:
    """The share of users GA4 hears from: none while the snippet is gone, some while a consent banner blocks it."""
    return min([e.size for e in scenario.events(kind="tracking-outage") if e.first <= minute < e.last], default=1.0)


def active_users(activity: list[float], seed: int) -> list[float]:
    noise = Noise(seed, "ga4/users")
    arrivals = []
    for minute in range(-PREROLL, clock.MINUTES):
        mean = USERS_PER_MINUTE * activity[minute + PREROLL]
        arrivals.append(noise.poisson(mean * _tracked(minute)))
    values, running = [], sum(arrivals[PREROLL - WINDOW : PREROLL])
    for minute in range(clock.MINUTES):
        index = minute + PREROLL
        running += arrivals[index] - arrivals[index - WINDOW]
        values.append(float(running))
    return values


def with_api_failures(values: list[float]) -> list[float]:
    """The exporter's view while the Data API fails: the last value for three polls, then nothing."""
    values = list(values)
    for event in scenario.events(kind="source-failing", target="ga4"):
        kept = values[event.first - 1]
        for minute in range(event.first, event.last):
            values[minute] = kept if minute < event.first + KEPT_POLLS else MISSING
    return values


def series(activity: list[float], seed: int) -> list[Series]:
    labels = {"job": scenario.JOB, "instance": scenario.INSTANCE, "property": scenario.PROPERTY}
    return [Series.of("ga4_active_users", labels, with_api_failures(active_users(activity, seed)))]
