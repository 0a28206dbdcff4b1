"""Prometheus' alert state machine (rules/alerting.go, v2.42.0) over a grid: for, keep_firing_for and their edges."""

from __future__ import annotations

from allim.backtest.statemachine import Grid, Span, alert_spans

GRID = Grid(start_ms=0, step_ms=1000, count=20)


def spans(present: list[int], hold_s: float = 0, keep_s: float = 0, grid: Grid = GRID) -> list[tuple[float, ...]]:
    """(active_at, fired_at, resolved_at or -1) in seconds, for short assertions."""
    return [
        (s.active_at / 1000, s.fired_at / 1000, -1 if s.resolved_at is None else s.resolved_at / 1000)
        for s in alert_spans(present, grid, round(hold_s * 1000), round(keep_s * 1000))
    ]


def test_statemachine_for_zero_fires_at_the_first_true_evaluation() -> None:
    assert spans([3, 4, 5]) == [(3, 3, 6)]


def test_statemachine_fires_once_true_for_the_whole_hold() -> None:
    # ts - ActiveAt >= for: active at 3, fires at 3 + 2
    assert spans([3, 4, 5, 6], hold_s=2) == [(3, 5, 7)]


def test_statemachine_pending_alert_that_turns_false_is_dropped() -> None:
    assert spans([3, 4], hold_s=2) == []


def test_statemachine_exactly_the_hold_fires_on_the_last_evaluation() -> None:
    assert spans([3, 4, 5], hold_s=2) == [(3, 5, 6)]


def test_statemachine_hold_between_steps_rounds_up_to_the_next_evaluation() -> None:
    assert spans([3, 4, 5, 6], hold_s=1.5) == [(3, 5, 7)]


def test_statemachine_a_gap_resets_pending() -> None:
    assert spans([1, 2, 4, 5, 6, 7], hold_s=3) == [(4, 7, 8)]


def test_statemachine_keep_firing_for_holds_after_the_expression_turns_false() -> None:
    # missing from 6: KeepFiringSince = 6, still firing while ts - 6 < 3, resolved at 9
    assert spans([3, 4, 5], keep_s=3) == [(3, 3, 9)]


def test_statemachine_keep_firing_bridges_a_gap_shorter_than_it() -> None:
    assert spans([3, 4, 7, 8], keep_s=3) == [(3, 3, 12)]


def test_statemachine_return_on_the_resolving_evaluation_continues_the_alert() -> None:
    # missing 5..6, would resolve at 7 (7 - 5 >= 2), but it is back at 7: the same alert goes on
    assert spans([3, 4, 7], keep_s=2) == [(3, 3, 10)]


def test_statemachine_gap_of_keep_firing_for_resolves_and_starts_a_new_alert() -> None:
    assert spans([3, 4, 8], keep_s=2) == [(3, 3, 7), (8, 8, 11)]


def test_statemachine_keep_firing_does_not_apply_to_pending_alerts() -> None:
    assert spans([3, 5, 6, 7], hold_s=1, keep_s=5) == [(5, 6, 13)]


def test_statemachine_resolved_alert_returning_is_a_new_pending_alert() -> None:
    assert spans([1, 2, 3, 5, 6, 7], hold_s=1) == [(1, 2, 4), (5, 6, 8)]


def test_statemachine_still_firing_at_the_end_has_no_end() -> None:
    assert spans([17, 18, 19]) == [(17, 17, -1)]


def test_statemachine_keep_firing_past_the_end_has_no_end() -> None:
    assert spans([15, 16], keep_s=5) == [(15, 15, -1)]


def test_statemachine_pending_at_the_end_is_no_alert() -> None:
    assert spans([18, 19], hold_s=5) == []


def test_statemachine_empty_presence_is_no_alert() -> None:
    assert alert_spans([], GRID, 0, 0) == []


def test_statemachine_spans_are_in_grid_time() -> None:
    grid = Grid.covering(first_ms=61_500, last_ms=300_000, step_ms=60_000)
    assert (grid.start_ms, grid.count) == (120_000, 4)
    assert alert_spans([1, 2], grid, 60_000, 0) == [Span(active_at=180_000, fired_at=240_000, resolved_at=300_000)]


def test_grid_covering_an_empty_range_has_no_evaluations() -> None:
    assert Grid.covering(1_000, 2_000, 60_000).count == 0
