"""The few PromQL functions the host and allim cases need, worked out on one-minute samples as Prometheus 2.42 does
(ranges include both ends; promql/functions.go for `extrapolatedRate` and `linearRegression`), and the alert state
a `for:` gives. Used to know what a case expects, never to decide it: promtool runs the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Samples = Sequence[float | None]  # one per minute from minute 0


def in_range(samples: Samples, t: int, minutes: int) -> list[tuple[int, float]]:
    return [(m, v) for m in range(max(0, t - minutes), t + 1) if m < len(samples) and (v := samples[m]) is not None]


def mean(values: Sequence[float]) -> float:
    """avg_over_time's incremental mean with Neumaier's compensation, as 2.42 computes it: a constant series averages
    to exactly itself, which a case sitting exactly on a threshold relies on."""
    average = compensation = count = 0.0
    for value in values:
        count += 1
        increment = value / count - average / count
        total = average + increment
        if abs(average) >= abs(increment):
            compensation += (average - total) + increment
        else:
            compensation += (increment - total) + average
        average = total
    return average + compensation


def avg_over_time(samples: Samples, t: int, minutes: int) -> float | None:
    points = in_range(samples, t, minutes)
    return mean([v for _, v in points]) if points else None


def rate(samples: Samples, t: int, minutes: int) -> float | None:
    """`rate(counter[minutes])` at t, per second, with Prometheus' extrapolation to the range's ends."""
    points = in_range(samples, t, minutes)
    if len(points) < 2:
        return None
    (first_t, first_v), (last_t, last_v) = points[0], points[-1]
    result = last_v - first_v + sum(prev for (_, prev), (_, cur) in zip(points, points[1:], strict=False) if cur < prev)
    start, end = (t - minutes) * 60.0, t * 60.0
    to_start, to_end = first_t * 60.0 - start, end - last_t * 60.0
    sampled = (last_t - first_t) * 60.0
    average = sampled / (len(points) - 1)
    if result > 0 and first_v >= 0:
        to_start = min(to_start, sampled * (first_v / result))
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return result * (interval / sampled) / (minutes * 60)


def predict_linear(points: list[tuple[int, float]], t: int, seconds: float) -> float | None:
    """`predict_linear(v[range], seconds)` at t from the range's points (minute, value)."""
    if len(points) < 2:
        return None
    xs = [(m - t) * 60.0 for m, _ in points]
    ys = [v for _, v in points]
    n = len(points)
    sum_x, sum_y = sum(xs), sum(ys)
    sum_xy, sum_x2 = sum(x * y for x, y in zip(xs, ys, strict=True)), sum(x * x for x in xs)
    cov, var = sum_xy - sum_x * sum_y / n, sum_x2 - sum_x * sum_x / n
    slope = cov / var
    intercept = sum_y / n - slope * sum_x / n
    return intercept + slope * seconds


def fires(condition: Callable[[int], float | None], t: int, for_m: int) -> float | None:
    """The alert's value at t: the condition's value when it has held at every minute for `for_m` minutes (it
    fires once `t - active_at >= for`), None otherwise."""
    if condition(t) is None:
        return None
    active = t
    while active > 0 and condition(active - 1) is not None and t - active < for_m:
        active -= 1
    return condition(t) if t - active >= for_m else None
