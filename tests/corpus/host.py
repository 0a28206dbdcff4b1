"""The web server's CPU, memory and filesystems as the exporter shows them (`host_*`, polled every 15 s; the
corpus keeps one sample a minute).

How the real thing behaves, and so how the series look:
- CPU is the busy share over the last 15 s, so it is noisy: the shop's traffic keeps it at 5-30%. Deploys build
  and warm caches for 3-9 minutes at 85-97% (about 2.5 a week, working hours); the Sunday 03:00 backup compresses
  for a quarter of an hour at ~85%; the 02:00 report job takes half the CPU for 5 minutes. None is an incident.
- Memory holds the app's workers and caches (55-65%), creeps up ~1% a day between deploys (fragmentation) and
  falls back when a deploy restarts the workers. The 02:00 report job loads a dataset that grows every week: for
  6-12 minutes memory reaches 80-95%. Not an incident: it is gone before anyone could look.
- `/` grows through the day with logs and drops at midnight when logrotate compresses them; `/var/lib/postgresql`
  sits at 82-88% for weeks (the database grows slowly; WAL comes and goes; the Sunday dump is written there and
  removed after upload): high, not filling, until WAL archiving breaks (scenario.py). Usage is used / (used +
  available), as df shows; ext4 keeps 5%.
"""

from __future__ import annotations

import math

from tests.corpus import clock, scenario
from tests.corpus.history import Series
from tests.corpus.noise import Noise
from tests.corpus.scenario import Mount
from tests.corpus.traffic import PREROLL

MEMORY_TOTAL = 17_179_869_184  # 16 GiB
RESERVED = 0.05  # ext4's root reserve: not available to users, not "used"
Spell = tuple[int, int, float]  # first minute, first minute after, level


def _deploys(noise: Noise) -> list[int]:
    """Deploy minutes: weekdays 10-18, Poisson with 0.5 a day, none near a CPU or memory incident."""
    minutes = []
    for day in range(clock.MINUTES // 1440):
        if clock.weekday(day * 1440) >= 5 or clock.is_holiday(day * 1440):
            continue
        for _ in range(noise.poisson(0.5)):
            minute = day * 1440 + noise.integer(10 * 60, 18 * 60 - 1)
            if not scenario.near_incident("Host", minute, ("cpu", "memory")):
                minutes.append(minute)
    return sorted(minutes)


def _nightly(hour: float, weekday: int | None = None) -> list[int]:
    """Start minutes of a job run at `hour` every night (or every `weekday`), away from CPU and memory incidents."""
    starts = []
    for day in range(clock.MINUTES // 1440):
        minute = day * 1440 + int(hour * 60)
        if weekday is not None and clock.weekday(minute) != weekday:
            continue
        if not scenario.near_incident("Host", minute, ("cpu", "memory")):
            starts.append(minute)
    return starts


def _cpu_spells(noise: Noise, deploys: list[int]) -> list[Spell]:
    spells = [(m, m + noise.integer(3, 9), noise.uniform(0.85, 0.97)) for m in deploys]
    spells += [(m, m + noise.integer(14, 18), noise.uniform(0.78, 0.92)) for m in _nightly(3, weekday=6)]
    spells += [(m, m + 5, 0.55) for m in _nightly(2)]
    spells += [(e.first, e.last, noise.uniform(0.94, 0.98)) for e in scenario.events(kind="cpu-busy")]
    return spells


def cpu(activity: list[float], deploys: list[int], seed: int) -> list[float]:
    noise = Noise(seed, "host/cpu")
    levels = [0.05 + 0.18 * activity[minute + PREROLL] for minute in range(clock.MINUTES)]
    for first, last, level in _cpu_spells(noise, deploys):
        for minute in range(first, min(last, clock.MINUTES)):
            levels[minute] = max(levels[minute], level)
    return [min(1.0, max(0.01, level + noise.normal(0, 0.02 + 0.04 * level))) for level in levels]


def _report_job(noise: Noise, start: int) -> Spell:
    extra = 0.18 + 0.006 * clock.weeks_since_start(start) + noise.uniform(0, 0.06)
    return (start, start + noise.integer(6, 12), extra)


def memory(activity: list[float], deploys: list[int], seed: int) -> list[float]:
    noise = Noise(seed, "host/memory")
    extra = [0.0] * clock.MINUTES
    for first, last, amount in (_report_job(noise, start) for start in _nightly(2)):
        extra[first : min(last, clock.MINUTES)] = [amount] * (min(last, clock.MINUTES) - first)
    restarts = {*deploys, *(e.last for e in scenario.events(kind="memory-leak"))}
    values, wander, since = [], 0.0, 3 * 1440
    for minute in range(clock.MINUTES):
        since = 0 if minute in restarts else since + 1
        wander = 0.98 * wander + noise.normal(0, 0.002)
        level = 0.55 + 0.05 * activity[minute + PREROLL] + min(0.06, 0.008 * since / 1440) + wander
        for event in scenario.events(kind="memory-leak"):
            if event.first <= minute < event.last:
                level = max(level, 0.62 + 0.35 * (minute - event.first) / (event.last - event.first))
        values.append(min(0.99, level + extra[minute]))
    return values


def _filling(mountpoint: str, minute: int) -> float:
    """What a runaway writer has added by `minute`: its rate (% an hour) times the hours since it started."""
    return sum(
        e.size / 100 * (minute - e.first) / 60
        for e in scenario.events(kind="disk-filling", target=mountpoint)
        if e.first <= minute < e.last
    )


def _root_used(minute: int, noise: Noise) -> float:
    used = 0.52 + 0.0006 * minute / 1440 + 0.005 * clock.hour_of_day(minute) / 24 + noise.normal(0, 0.0004)
    return used + _filling("/", minute)


def _database_used(minute: int, noise: Noise) -> float:
    used = 0.83 + 0.0002 * minute / 1440 + 0.004 * math.sin(2 * math.pi * clock.hour_of_day(minute) / 24)
    if clock.weekday(minute) == 6 and 3 * 60 <= minute % 1440 < 4 * 60 + 30:  # the dump, written then uploaded
        used += 0.03 * min(1.0, (minute % 1440 - 180) / 60)
    return used + noise.normal(0, 0.0004) + _filling("/var/lib/postgresql", minute)


def filesystem(mount: Mount, seed: int) -> list[Series]:
    noise = Noise(seed, f"host/fs{mount.mountpoint}")
    used_share = _root_used if mount.mountpoint == "/" else _database_used
    capacity = mount.size_bytes * (1 - RESERVED)
    labels = {"job": scenario.JOB, "instance": scenario.INSTANCE, "mountpoint": mount.mountpoint}
    labels |= {"device": mount.device, "fstype": mount.fstype}
    usage = [used_share(minute, noise) for minute in range(clock.MINUTES)]
    return [
        Series.filled("host_filesystem_size_bytes", labels, float(mount.size_bytes)),
        Series.of("host_filesystem_avail_bytes", labels, (capacity * (1 - u) for u in usage)),
        Series.of("host_filesystem_usage_ratio", labels, usage, 4),
    ]


def series(activity: list[float], seed: int) -> list[Series]:
    labels = {"job": scenario.JOB, "instance": scenario.INSTANCE}
    deploys = _deploys(Noise(seed, "host/deploys"))
    usage = memory(activity, deploys, seed)
    result = [
        Series.of("host_cpu_usage_ratio", labels, cpu(activity, deploys, seed), 4),
        Series.of("host_memory_usage_ratio", labels, usage, 4),
        Series.filled("host_memory_total_bytes", labels, float(MEMORY_TOTAL)),
        Series.of("host_memory_available_bytes", labels, (MEMORY_TOTAL * (1 - u) for u in usage)),
    ]
    for mount in scenario.MOUNTS:
        result += filesystem(mount, seed)
    return result
