"""Reads a history from CSV: a header `timestamp,<series>,<series>…` naming each column's series as a PromQL
selector (`up{job="a"}`, CSV-quoted when it holds commas or quotes), then one row per time (Unix seconds or
RFC 3339, increasing); an empty cell means no sample for that series at that time."""

from __future__ import annotations

import csv
from pathlib import Path

from allim.backtest.durations import parse_time
from allim.backtest.errors import InputError
from allim.backtest.history import History, Series
from allim.backtest.selectors import SelectorError, format_series, parse_series


def read_csv(path: Path) -> History:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise InputError(f"{path}: empty file (expected a header `timestamp,<series>,…`)")
            columns = _columns(path, header)
            for number, row in enumerate(rows, start=2):
                _add_row(path, number, row, columns)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"--history {path}: cannot read it as CSV ({error})") from None
    return History(columns)


def _columns(path: Path, header: list[str]) -> list[Series]:
    if len(header) < 2:
        raise InputError(f"{path}:1: the header needs a timestamp column and at least one series")
    columns: list[Series] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for position, cell in enumerate(header[1:], start=2):
        try:
            labels = parse_series(cell)
        except SelectorError as error:
            raise InputError(
                f'{path}:1: column {position} ({cell!r}) is not a series like up{{job="a"}}: {error}'
            ) from None
        if labels in seen:
            raise InputError(f"{path}:1: column {position}: {format_series(labels)} appears twice")
        seen.add(labels)
        columns.append(Series(labels))
    return columns


def _add_row(path: Path, number: int, row: list[str], columns: list[Series]) -> None:
    if not row or not any(cell.strip() for cell in row):
        return
    if len(row) != len(columns) + 1:
        raise InputError(f"{path}:{number}: {len(row)} cells, the header has {len(columns) + 1}")
    ms = parse_time(row[0], f"{path}:{number}: timestamp", now=0.0)
    for cell, one in zip(row[1:], columns, strict=True):
        if not cell.strip():
            continue
        try:
            value = float(cell)
        except ValueError:
            raise InputError(f"{path}:{number}: {cell!r} for {format_series(one.labels)} is not a number") from None
        if one.times and ms <= one.times[-1]:
            raise InputError(
                f"{path}:{number}: timestamp {row[0]} is not after the previous row's (rows must be in time order)"
            )
        one.times.append(ms)
        one.values.append(value)
