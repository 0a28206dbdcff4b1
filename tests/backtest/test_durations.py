"""Prometheus durations and times, as the flags and the incidents file spell them."""

from __future__ import annotations

import pytest

from allim.backtest.durations import format_duration, format_time, parse_duration, parse_time
from allim.backtest.errors import InputError


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1m", 60_000),
        ("1h30m", 5_400_000),
        ("7d", 604_800_000),
        ("2w", 1_209_600_000),
        ("500ms", 500),
        ("0", 0),
        ("1y", 31_536_000_000),
        ("90s", 90_000),
    ],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration(text, "--x") == ms


@pytest.mark.parametrize("text", ["", "5", "1.5h", "m", "5 m", "1m1h", "-5m", "5x"])
def test_parse_duration_rejects_with_the_flag_named(text: str) -> None:
    with pytest.raises(InputError, match=r"^--since: .* is not a duration \(like 30s, 5m, 1h30m, 7d\)$"):
        parse_duration(text, "--since")


def test_format_duration_is_the_shortest_spelling() -> None:
    assert [format_duration(ms) for ms in (0, 60_000, 5_400_000, 691_200_000, 1_500)] == [
        "0s",
        "1m",
        "1h30m",
        "1w1d",
        "1s500ms",
    ]


def test_parse_time_accepts_rfc3339_unix_seconds_and_now() -> None:
    assert parse_time("2024-05-01T10:00:00Z", "--until", now=0) == 1_714_557_600_000
    assert parse_time("2024-05-01T19:00:00+09:00", "--until", now=0) == 1_714_557_600_000
    assert parse_time("2024-05-01T10:00:00", "--until", now=0) == 1_714_557_600_000  # no zone: UTC
    assert parse_time("1714557600.5", "--until", now=0) == 1_714_557_600_500
    assert parse_time("now", "--until", now=12.0) == 12_000
    with pytest.raises(InputError, match="^--until: 'May 1st' is not a time"):
        parse_time("May 1st", "--until", now=0)


def test_format_time_is_utc() -> None:
    assert format_time(1_714_557_600_000) == "2024-05-01 10:00:00Z"
    assert format_time(1_714_557_600_250) == "2024-05-01 10:00:00.250Z"
