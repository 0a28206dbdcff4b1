"""Prometheus' durations (`1h30m`, `7d`, `500ms`) and points in time (RFC 3339 or Unix seconds), in milliseconds."""

from __future__ import annotations

import datetime as dt
import re

from allim.backtest.errors import InputError

# model.ParseDuration's units, largest first, each at most once (prometheus/common model/time.go).
_UNITS_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_FACTORS = [*_UNITS_MS.values(), 1]


def parse_duration(text: str, what: str) -> int:
    """`5m` -> 300000. `what` names the flag or key in the error (`--since: '5x' is not a duration ...`)."""
    stripped = text.strip()
    if stripped == "0":
        return 0
    match = _DURATION.match(stripped)
    if not stripped or match is None or not any(match.groups()):
        raise InputError(f"{what}: {text!r} is not a duration (like 30s, 5m, 1h30m, 7d)")
    return sum(int(part) * factor for part, factor in zip(match.groups(), _FACTORS, strict=True) if part)


def format_duration(ms: int) -> str:
    """300000 -> `5m`, 5400000 -> `1h30m`: the shortest Prometheus spelling."""
    if ms == 0:
        return "0s"
    parts = []
    for unit, factor in [*_UNITS_MS.items(), ("ms", 1)]:
        if unit == "y":
            continue  # a year of days reads better as weeks and days
        count, ms = divmod(ms, factor)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_time(text: str, what: str, now: float) -> int:
    """RFC 3339 (`2024-05-01T10:00:00Z`; no zone means UTC), Unix seconds, or `now`, in ms."""
    stripped = text.strip()
    if stripped == "now":
        return round(now * 1000)
    try:
        return round(float(stripped) * 1000)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{what}: {text!r} is not a time (RFC 3339 like 2024-05-01T10:00:00Z, or Unix seconds)"
        ) from None
    return datetime_ms(moment)


def datetime_ms(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)


def format_time(ms: int) -> str:
    """1714557600000 -> `2024-05-01 10:00:00Z` (UTC, seconds; milliseconds only when there are some)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"
