"""How busy the shop is, minute by minute: the one curve that GA4 users, Sentry errors and the host's CPU follow.

Activity 1.0 is a normal weekday at 10:00 KST. The shape is a Korean consumer site's:
- weekdays: asleep 02-06, a climb from 07, a lunch peak at 12, the day's peak at 21-22 after work;
- weekends: later mornings, no lunch peak, about 60% of a weekday;
- Monday morning: the week's backlog of orders and support, +45% around 10:00;
- Seollal (16-18 February 2026) and the weekend before it: travel and family, 40-50% of a weekday; Samiljeol's
  substitute holiday (Monday 2 March) a weekend day;
- a slow growth of 1.5% a week (the shop is doing fine), day-to-day weather/news variation of about 6%, and a
  wander within the day of about 5%;
- the marketing push of 24 February (scenario.py): 3-4x the evening within 15 minutes, fading over two hours.
"""

from __future__ import annotations

import math
from datetime import date

from tests.corpus import clock, scenario
from tests.corpus.noise import Noise

PREROLL = 120  # minutes simulated before the corpus starts, so trailing windows are full at minute 0

WEEKDAY = (0.55, 0.35, 0.22, 0.15, 0.12, 0.14, 0.25, 0.45, 0.70, 0.90, 1.00, 1.00,
           1.10, 1.00, 0.95, 0.95, 0.95, 0.90, 0.85, 0.95, 1.10, 1.20, 1.10, 0.85)  # fmt: skip
WEEKEND = (0.75, 0.55, 0.36, 0.24, 0.18, 0.16, 0.20, 0.32, 0.48, 0.68, 0.84, 0.96,
           1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.04, 1.16, 1.30, 1.36, 1.25, 1.00)  # fmt: skip
DAY_LEVEL = (1.00, 1.00, 1.00, 0.98, 0.94, 0.60, 0.56)  # Monday ... Sunday, times the profile
HOLIDAY_LEVEL = {
    date(2026, 2, 14): 0.50,  # Saturday: on the road home
    date(2026, 2, 15): 0.48,
    date(2026, 2, 16): 0.45,  # Seollal holidays, weekend-shaped
    date(2026, 2, 17): 0.38,  # New Year's Day itself
    date(2026, 2, 18): 0.50,
    date(2026, 3, 1): 0.52,  # Samiljeol, a Sunday
    date(2026, 3, 2): 0.55,  # its substitute holiday, a Monday: no Monday surge
}
GROWTH_PER_WEEK = 0.015
MONDAY_SURGE = 0.45


def _day_shape(minute: int) -> float:
    hour = clock.hour_of_day(minute)
    today = clock.moment(minute).date()
    if today in HOLIDAY_LEVEL:
        return smooth(WEEKEND, hour) * HOLIDAY_LEVEL[today]
    weekday = clock.weekday(minute)
    profile = WEEKDAY if weekday < 5 else WEEKEND
    level = smooth(profile, hour) * DAY_LEVEL[weekday]
    if weekday == 0:
        monday_ten = minute - minute % 1440 + 600
        level *= 1 + MONDAY_SURGE * clock.bell(minute, monday_ten, 70)
    return level


def smooth(profile: tuple[float, ...], hour: float) -> float:
    return clock.smooth_profile(profile, hour)


def _campaign(minute: int) -> float:
    """The unannounced push: users arrive within minutes of 19:00 and drift away over the evening."""
    factor = 1.0
    for event in scenario.events(kind="spike"):
        since = minute - event.first
        if since >= 0:
            factor += 3.4 * (1 - math.exp(-since / 5)) * math.exp(-since / 60)
    return factor


def site_activity(seed: int) -> list[float]:
    """Activity for minutes -PREROLL ... MINUTES-1 (index 0 is minute -PREROLL)."""
    noise = Noise(seed, "traffic")
    days = clock.MINUTES // 1440 + 2
    daily = [math.exp(noise.normal(0, 0.06)) for _ in range(days)]
    wander, values = 0.0, []
    for minute in range(-PREROLL, clock.MINUTES):
        if minute % 10 == 0:
            wander = 0.9 * wander + noise.normal(0, 0.02)
        growth = 1 + GROWTH_PER_WEEK * clock.weeks_since_start(minute)
        level = _day_shape(minute) * daily[clock.day(minute) + 1] * math.exp(wander) * growth
        values.append(level * _campaign(minute))
    return values
