"""The corpus as series of one-minute samples, and the two files the backtest reads: OpenMetrics and CSV.

A sample is a float; NaN means "no sample at that minute" (a monitor not yet added, the exporter down). Values
are written with a fixed number of decimals, so the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tests.corpus import clock

MISSING = math.nan


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    values: array = field(repr=False)  # array("d"), one per corpus minute
    decimals: int = 0
    exporter: bool = True  # False for Prometheus' own `up`: it is written even while the exporter is down

    @classmethod
    def filled(cls, name: str, labels: dict[str, str], value: float, decimals: int = 0) -> Series:
        return cls(name, labels, array("d", [value]) * clock.MINUTES, decimals)

    @classmethod
    def of(cls, name: str, labels: dict[str, str], values: Iterable[float], decimals: int = 0) -> Series:
        series = cls(name, labels, array("d", values), decimals)
        assert len(series.values) == clock.MINUTES, f"{name}: {len(series.values)} samples"
        return series

    def selector(self) -> str:
        inner = ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(self.labels.items()))
        return f"{self.name}{{{inner}}}"

    def formatted(self, minute: int) -> str | None:
        value = self.values[minute]
        if math.isnan(value):
            return None
        if self.decimals == 0:
            return str(round(value))
        text = f"{value:.{self.decimals}f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(series: Sequence[Series], out: TextIO) -> None:
    """One family after another (OpenMetrics forbids interleaving them), each series' samples in time order,
    timestamps in seconds, `# EOF` last: what `promtool tsdb create-blocks-from openmetrics` reads."""
    by_name: dict[str, list[Series]] = {}
    for one in series:
        by_name.setdefault(one.name, []).append(one)
    for name, members in by_name.items():
        out.write(f"# TYPE {name} gauge\n")
        for one in members:
            prefix = one.selector() + " "
            lines = []
            for minute in range(clock.MINUTES):
                text = one.formatted(minute)
                if text is not None:
                    lines.append(f"{prefix}{text} {clock.unix(minute)}\n")
            out.writelines(lines)
    out.write("# EOF\n")


def write_csv(series: Sequence[Series], out: TextIO) -> None:
    """A `timestamp` column (Unix seconds), then a column per series headed by its selector; an empty cell is no
    sample."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", *(one.selector() for one in series)])
    for minute in range(clock.MINUTES):
        writer.writerow([clock.unix(minute), *(one.formatted(minute) or "" for one in series)])


FORMATS = {"openmetrics": ("history.om", write_openmetrics), "csv": ("history.csv", write_csv)}


def write(series: Sequence[Series], directory: Path, form: str = "openmetrics") -> Path:
    filename, writer = FORMATS[form]
    path = directory / filename
    with path.open("w", encoding="utf-8", newline="") as out:
        writer(series, out)
    return path
