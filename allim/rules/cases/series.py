"""Input series for promtool's unit tests, and the numbers its templates print.

promtool writes a series as `a+bxN` segments (N+1 values); `_` is a missing sample. The generator builds series as
lists of values (None for missing) and writes them compressed, so weeks of input stay readable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Value = float | None


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f'{name}="{value}"' for name, value in labels.items())


def selector(metric: str, labels: dict[str, str]) -> str:
    return f"{metric}{{{labels_text(labels)}}}"


def _number(value: float) -> str:
    return f"{value:.10g}"


def compress(values: Sequence[Value]) -> str:
    """promtool's notation for `values`: a run of one value as `vxN` (N+1 values), a run of missing samples as
    `_xN` (N of them: promtool's notation counts the two differently)."""
    out: list[str] = []
    index = 0
    while index < len(values):
        value = values[index]
        run = 1
        while index + run < len(values) and values[index + run] == value:
            run += 1
        if value is None:
            out.append("_" if run == 1 else f"_x{run}")
        else:
            out.append(_number(value) if run == 1 else f"{_number(value)}x{run - 1}")
        index += run
    return " ".join(out)


def repeat(pattern: Sequence[Value], times: int) -> list[Value]:
    return list(pattern) * times


def concat(*parts: Iterable[Value]) -> list[Value]:
    return [value for part in parts for value in part]


# -- Prometheus' template functions (template/template.go), for the annotations a case expects ----------------------


def humanize(value: float) -> str:
    """`humanize`: 4 significant digits with an SI prefix (k, M, ... above 1000; m, u, ... below 1)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    prefix = ""
    if abs(value) >= 1:
        for step in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix = step
            value /= 1000
    else:
        for step in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(value) >= 1:
                break
            prefix = step
            value *= 1000
    return f"{value:.4g}{prefix}"


def humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"


def humanize_duration(seconds: float) -> str:
    """`humanizeDuration` for whole seconds of a minute or more (what the allim rules print)."""
    rest = int(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
