"""The lookback delta that stands in for staleness markers, and the early last sample of a recorded series."""

from __future__ import annotations

from allim.backtest.history import History, Series
from allim.backtest.recording import stop_shift_ms
from allim.backtest.rules import Rule, RuleSet
from allim.backtest.run import choose_lookback_ms
from allim.backtest.selectors import parse_series


def history(*times_per_series: list[int]) -> History:
    series = []
    for number, times in enumerate(times_per_series):
        one = Series(parse_series(f'x{{n="{number}"}}'))
        one.times.extend(times)
        one.values.extend([1.0] * len(times))
        series.append(one)
    return History(series)


def rules(*intervals_ms: int) -> list[RuleSet]:
    return [
        RuleSet(
            "r",
            [],
            [Rule("r.yml", "g", f"R{i}", "x", interval, alerting=True) for i, interval in enumerate(intervals_ms)],
        )
    ]


def test_lookback_on_grid_is_just_under_the_sampling_interval() -> None:
    assert choose_lookback_ms(history([0, 60_000, 120_000, 180_000]), rules(60_000)) == 59_999


def test_lookback_on_grid_sampled_every_other_evaluation_keeps_samples_until_the_next() -> None:
    assert choose_lookback_ms(history([0, 120_000, 240_000]), rules(60_000)) == 119_999


def test_lookback_off_grid_is_the_longest_regular_gap_jitter_included() -> None:
    times = [17_000, 77_000, 137_400, 197_000, 257_000, 900_000]  # a 60.4 s jitter, then an absence
    assert choose_lookback_ms(history(times), rules(60_000)) == 60_400


def test_lookback_mixed_intervals_keep_a_slow_groups_series_visible() -> None:
    assert choose_lookback_ms(history([0, 60_000, 120_000]), rules(60_000, 240_000)) == 240_000


def test_lookback_is_at_most_prometheus_default() -> None:
    assert choose_lookback_ms(history([0, 3_600_000, 7_200_000]), rules(60_000)) == 300_000
    assert choose_lookback_ms(history([0]), rules(60_000)) == 300_000


def test_stop_shift_moves_the_last_sample_out_of_the_next_evaluations_lookback() -> None:
    assert stop_shift_ms(lookback_ms=59_999, step_ms=60_000) == 0
    assert stop_shift_ms(lookback_ms=60_400, step_ms=60_000) == 401  # 60 s + 401 ms old at the next: gone
    assert stop_shift_ms(lookback_ms=300_000, step_ms=60_000) == 59_999  # the most it can move: still in order
