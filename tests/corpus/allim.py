"""The exporter's own health: Prometheus' `up` for its target, `allim_source_up{source}` and
`allim_source_last_success_timestamp_seconds{source}`, and the gaps.

- The exporter crashed once (scenario.py) and was upgraded three times: while it is down, Prometheus records
  `up 0` and no exporter series has a sample; an upgrade costs one scrape.
- A poll of an API source fails now and then (a timeout, a 502 from a proxy): `allim_source_up` reads 0 for one
  poll, about once every four days per API source. The GA4 Data API outage in scenario.py lasts 14 minutes.
"""

from __future__ import annotations

from tests.corpus import clock, scenario
from tests.corpus.history import MISSING, Series
from tests.corpus.noise import Noise

FAILED_POLL_EVERY_DAYS = 4


def exporter_down_minutes() -> set[int]:
    down = {clock.at(text) for text in scenario.EXPORTER_RESTARTS}
    for event in scenario.events(kind="exporter-down"):
        down.update(range(event.first, event.last))
    return down


def _source_up(source: str, seed: int) -> list[float]:
    """1 but for one failed poll in each FAILED_POLL_EVERY_DAYS (at a random minute of each such slot) for the API
    sources, and the scenario's failures."""
    values = [1.0] * clock.MINUTES
    if source != "host":
        noise, slot = Noise(seed, f"allim/{source}"), FAILED_POLL_EVERY_DAYS * 1440
        for first in range(0, clock.MINUTES, slot):
            minute = first + noise.integer(0, slot - 1)
            if not scenario.near_incident("Allim", minute):
                values[minute] = 0.0
    for event in scenario.events(kind="source-failing", target=source):
        values[event.first : event.last] = [0.0] * (event.last - event.first)
    return values


def last_success(up: list[float], source: str) -> list[float]:
    """The Unix time of the source's last good poll: a few seconds before the sample while polls succeed (host
    polls every 15 s, the API sources every 60 s), frozen while they fail."""
    lag = 7 if source == "host" else 23
    values, last = [], clock.unix(0) - lag
    for minute, value in enumerate(up):
        if value == 1.0:
            last = clock.unix(minute) - lag
        values.append(float(last))
    return values


def series(seed: int) -> list[Series]:
    labels = {"job": scenario.JOB, "instance": scenario.INSTANCE}
    down = exporter_down_minutes()
    up = Series.of("up", labels, (0.0 if minute in down else 1.0 for minute in range(clock.MINUTES)))
    up.exporter = False
    health, stamps = [], []
    for source in scenario.SOURCES:
        source_up = _source_up(source, seed)
        health.append(Series.of("allim_source_up", {**labels, "source": source}, source_up))
        name = "allim_source_last_success_timestamp_seconds"
        stamps.append(Series.of(name, {**labels, "source": source}, last_success(source_up, source)))
    return [up, *health, *stamps]


def apply_exporter_gaps(all_series: list[Series]) -> None:
    """No exporter series has a sample while the exporter is down."""
    down = sorted(exporter_down_minutes())
    for one in all_series:
        if one.exporter:
            for minute in down:
                one.values[minute] = MISSING
