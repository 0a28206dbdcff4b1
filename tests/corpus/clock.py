"""The corpus calendar: twelve weeks of one-minute samples in Korean time, from Monday 5 January 2026.

Twelve weeks: four for the seasonal rules to fill their baselines (they look up to four weeks back), then eight
scored weeks. Every shape is written in Korean local time (KST, UTC+9, no daylight saving), where the team and its
users live; timestamps in the history are Unix seconds. Minute `i` of the corpus is `START + 60 * i`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")
START = datetime(2026, 1, 5, tzinfo=KST)  # a Monday, 00:00 KST
WEEKS = 12
MINUTES = WEEKS * 7 * 1440
STEP = 60  # seconds between samples: the exporter's polling cadence for the API sources
START_UNIX = int(START.timestamp())

# Seollal (설날), the Lunar New Year, 16-18 February 2026: the country travels home, the shop is quiet. And Monday
# 2 March, the substitute holiday for Samiljeol (삼일절, 1 March, a Sunday in 2026): a Monday without its surge.
HOLIDAYS = {datetime(2026, 2, d, tzinfo=KST).date() for d in (16, 17, 18)} | {datetime(2026, 3, 2, tzinfo=KST).date()}


def at(text: str) -> int:
    """The minute index of a KST time written `2026-01-14 14:07`."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=KST)
    return int((moment - START).total_seconds()) // 60


def moment(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def unix(minute: int) -> int:
    return START_UNIX + STEP * minute


def hour_of_day(minute: int) -> float:
    """Local hour with its fraction: 14.5 is 14:30 KST."""
    return (minute % 1440) / 60.0


def weekday(minute: int) -> int:
    """0 Monday ... 6 Sunday (the corpus starts on a Monday)."""
    return (minute // 1440) % 7


def day(minute: int) -> int:
    return minute // 1440


def is_holiday(minute: int) -> bool:
    return moment(minute).date() in HOLIDAYS


def weeks_since_start(minute: int) -> float:
    return minute / (7 * 1440)


def smooth_profile(points: tuple[float, ...], hour: float) -> float:
    """A 24-point hourly profile read at `hour`, cosine-interpolated so the curve has no corners."""
    low = int(hour) % 24
    high = (low + 1) % 24
    fraction = hour - int(hour)
    weight = (1 - math.cos(math.pi * fraction)) / 2
    return points[low] * (1 - weight) + points[high] * weight


def bell(minute: int, centre: int, width: float) -> float:
    """A smooth bump, 1 at `centre` and ~0 beyond 2 widths (minutes): surges and campaigns rise and fall this way."""
    return math.exp(-(((minute - centre) / width) ** 2))
