"""HetrixTools uptime monitors as the exporter shows them: `hetrixtools_monitor_up`, `_uptime_ratio`, `_status` and
`_response_time_seconds` per location.

How the real thing behaves, and so how the series look:
- HetrixTools checks each monitor once a minute from its locations and calls it down only when two locations fail
  the check three times in a row (`number_of_tries`, `triggering_locations`); the verdict comes ~15 s after the
  check, and its webhook flips the exporter's `up` at once. So `up` lags the truth by up to a minute and changes
  only at check times: an outage shorter than the gap between two checks can go unseen.
- Single down minutes ("blips"): a deploy restarting the app, a load balancer reload. About one every 12 days per
  monitor, mostly in working hours. Unlabelled: the service was back before anyone could act.
- One location slow: a route from Frankfurt or London congested for minutes, the others fine. About one every 9
  days per monitor; most last 2-6 minutes, some up to 25. Unlabelled: a network path, not the service.
- Response time is the network round trip from the location (Tokyo is next door, Europe ~1 s away with TLS) plus
  the server's time, which grows with traffic; a failed check reports the monitor's 10 s timeout.
- `uptime` is HetrixTools' own percentage over a period it does not disclose; modelled as the share of up checks
  over the trailing 30 days (since creation for a new monitor), with a little downtime from before the corpus.
"""

from __future__ import annotations

import bisect
import math

from tests.corpus import clock, scenario
from tests.corpus.history import MISSING, Series
from tests.corpus.noise import Noise
from tests.corpus.scenario import Monitor
from tests.corpus.traffic import PREROLL

CONFIRM_SECONDS = 15
TIMEOUT_SECONDS = 10.0
UPTIME_WINDOW = 30 * 1440
BLIP_EVERY_DAYS = 12
SLOW_EVERY_DAYS = 9
ROUND_TRIP = {"tokyo": 0.18, "singapore": 0.42, "san_francisco": 0.62, "frankfurt": 1.05, "london": 1.12}

Interval = tuple[float, float]  # seconds since the corpus start, [start, end)


def _random_times(noise: Noise, first: int, every_days: float) -> list[int]:
    """About one minute every `every_days` from `first`: one at a random time in each of that many equal slots (a
    small corpus should hold the rate it claims, not a lucky draw), 60% moved into weekday working hours (when people
    deploy and networks are busy), none near a HetrixTools incident."""
    count = max(1, round((clock.MINUTES - first) / (every_days * 1440)))
    slot = (clock.MINUTES - first) / count
    minutes = []
    for index in range(count):
        minute = first + int(slot * index + noise.uniform(0, slot))
        if clock.weekday(minute) < 5 and noise.chance(0.6):
            minute = minute - minute % 1440 + noise.integer(10 * 60, 18 * 60 - 1)
        if not scenario.near_incident("HetrixTools", minute):
            minutes.append(minute)
    return minutes


def _flapping(noise: Noise, first: int, last: int) -> list[Interval]:
    """About a minute down in every ten: the lock is held 40-80 s, then released for 4-14 minutes."""
    stretches, at = [], first * 60.0 + noise.uniform(0, 60)
    while at < last * 60:
        length = noise.uniform(40, 80)
        stretches.append((at, min(at + length, last * 60.0)))
        at += length + 240 + noise.exponential(300)
    return stretches


def truth(monitor: Monitor, seed: int) -> list[Interval]:
    """When the service was really down (not what HetrixTools saw): scenario events plus random blips."""
    noise = Noise(seed, f"hetrixtools/{monitor.key}/down")
    down: list[Interval] = []
    for event in scenario.events(target=monitor.key):
        if event.kind == "outage":
            down.append((event.first * 60 + noise.uniform(0, 50), event.last * 60 + noise.uniform(0, 50)))
        elif event.kind == "flapping":
            down.extend(_flapping(noise, event.first, event.last))
    if monitor.type != "heartbeat":
        for minute in _random_times(noise, scenario.added_minute(monitor.added), BLIP_EVERY_DAYS):
            at = minute * 60 + noise.uniform(0, 60)
            down.append((at, at + noise.uniform(30, 70)))
    return sorted(down)


def _is_down(down: list[Interval], second: float) -> bool:
    index = bisect.bisect_right(down, (second, math.inf)) - 1
    return index >= 0 and down[index][0] <= second < down[index][1]


def checked_up(monitor: Monitor, down: list[Interval], seed: int) -> list[float]:
    """`hetrixtools_monitor_up` per minute: the verdict of the last check whose result was known by then."""
    added = scenario.added_minute(monitor.added)
    phase = Noise(seed, f"hetrixtools/{monitor.key}/phase").uniform(0, 60)
    values = [MISSING] * clock.MINUTES
    for minute in range(added, clock.MINUTES):
        checks = math.floor((minute * 60 - CONFIRM_SECONDS - phase - added * 60) / 60)
        if checks < 0:
            values[minute] = 1.0  # not checked yet: HetrixTools lists a new monitor as up
            continue
        values[minute] = 0.0 if _is_down(down, added * 60 + phase + 60 * checks) else 1.0
    return values


def uptime(monitor: Monitor, up: list[float], seed: int) -> list[float]:
    added = scenario.added_minute(monitor.added)
    before = 0 if monitor.added else Noise(seed, f"hetrixtools/{monitor.key}/before").integer(2, 12)
    down_so_far, prefix = 0.0, [0.0]
    for value in up:
        down_so_far += 0.0 if math.isnan(value) else 1.0 - value
        prefix.append(down_so_far)
    values = [MISSING] * clock.MINUTES
    for minute in range(added, clock.MINUTES):
        since = max(added, minute - UPTIME_WINDOW + 1)
        carried = before * max(0.0, 1 - minute / UPTIME_WINDOW)
        span = UPTIME_WINDOW if not monitor.added else minute - added + 1
        values[minute] = 1 - (prefix[minute + 1] - prefix[since] + carried) / span
    return values


def _slow_spells(monitor: Monitor, seed: int) -> dict[str, list[Interval]]:
    noise = Noise(seed, f"hetrixtools/{monitor.key}/slow")
    spells: dict[str, list[Interval]] = {location: [] for location in monitor.locations}
    if not monitor.locations:
        return spells  # a heartbeat monitor has no locations and no response times
    for minute in _random_times(noise, scenario.added_minute(monitor.added), SLOW_EVERY_DAYS):
        location = monitor.locations[noise.integer(0, len(monitor.locations) - 1)]
        length = noise.integer(2, 6) if noise.chance(0.7) else noise.integer(8, 25)
        spells[location].append((minute, minute + length))
    return spells


def response_times(monitor: Monitor, up: list[float], activity: list[float], seed: int) -> dict[str, list[float]]:
    noise = Noise(seed, f"hetrixtools/{monitor.key}/response")
    spells = _slow_spells(monitor, seed)
    result = {}
    for location in monitor.locations:
        slow = {m for start, end in spells[location] for m in range(int(start), int(end))}
        values = [MISSING] * clock.MINUTES
        for minute in range(scenario.added_minute(monitor.added), clock.MINUTES):
            server = (0.08 + 0.06 * activity[minute + PREROLL]) * math.exp(noise.normal(0, 0.2))
            seconds = ROUND_TRIP[location] * math.exp(noise.normal(0, 0.1)) + server
            if noise.chance(0.004):
                seconds *= noise.uniform(2.5, 5)  # one slow check: a retransmit, a cold cache
            if minute in slow:
                seconds = noise.uniform(3.5, 7.0)
            values[minute] = TIMEOUT_SECONDS if up[minute] == 0.0 else seconds
        result[location] = values
    return result


def series(activity: list[float], seed: int) -> list[Series]:
    up_series, uptime_series, status_series, response_series = [], [], [], []
    for monitor in scenario.MONITORS:
        labels = {"job": scenario.JOB, "instance": scenario.INSTANCE, **monitor.labels()}
        up = checked_up(monitor, truth(monitor, seed), seed)
        up_series.append(Series.of("hetrixtools_monitor_up", labels, up))
        uptime_series.append(Series.of("hetrixtools_monitor_uptime_ratio", labels, uptime(monitor, up, seed), 6))
        status = [MISSING if math.isnan(v) else 1.0 for v in up]
        status_series.append(Series.of("hetrixtools_monitor_status", {**labels, "status": "active"}, status))
        for location, values in response_times(monitor, up, activity, seed).items():
            located = {**labels, "location": location}
            response_series.append(Series.of("hetrixtools_monitor_response_time_seconds", located, values, 3))
    return up_series + uptime_series + status_series + response_series
