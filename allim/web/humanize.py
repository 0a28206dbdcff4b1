"""Times and durations for people, in English and Korean: `12 s ago` / `12초 전`, `in 3 min` / `3분 후`."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# (unit seconds, English suffix, Korean suffix), largest first.
UNITS = ((86_400, "d", "일"), (3_600, "h", "시간"), (60, "min", "분"), (1, "s", "초"))
WORDS = {
    "en": {"ago": "{} ago", "in": "in {}", "now": "just now", "never": "never"},
    "ko": {"ago": "{} 전", "in": "{} 후", "now": "방금", "never": "없음"},
}


def duration(seconds: float, language: str = "en") -> str:
    """`2 h 5 min` / `2시간 5분`: the two largest units; sub-second values in milliseconds."""
    korean = language == "ko"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if korean else f"{seconds * 1000:.0f} ms"
    left = int(seconds)
    parts = []
    for size, en, ko in UNITS:
        if left >= size:
            count, left = divmod(left, size)
            parts.append(f"{count}{ko}" if korean else f"{count} {en}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def relative(moment: float | None, now: float, language: str = "en") -> str:
    """How long ago (or how soon) the unix time `moment` is, from `now`."""
    words = WORDS.get(language, WORDS["en"])
    if moment is None:
        return words["never"]
    delta = now - moment
    if abs(delta) < 1:
        return words["now"]
    return words["ago" if delta > 0 else "in"].format(duration(abs(delta), language))


def timestamp(moment: float | None, zone: str = "UTC") -> str:
    """`2026-01-01 19:00:00 KST` in the IANA `zone` (UTC when unknown); empty for None."""
    if moment is None:
        return ""
    tz: tzinfo = UTC
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
