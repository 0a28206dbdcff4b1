"""Reads a history from an OpenMetrics file: `name{labels} value timestamp` with timestamps in seconds, `# EOF` last."""

from __future__ import annotations

from pathlib import Path

from allim.backtest.errors import InputError
from allim.backtest.history import History, Series
from allim.backtest.selectors import LabelSet, SelectorError, format_series, scan_series


def read_openmetrics(path: Path) -> History:
    """Every sample of the file; one line naming the file and line for anything wrong (exit 2)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"--history {path}: cannot read it ({error})") from None
    series: dict[str, Series] = {}  # by the series text as written, so each distinct spelling is parsed once
    by_labels: dict[LabelSet, Series] = {}
    ended = False
    for number, line in enumerate(text.splitlines(), start=1):
        if ended:
            if line.strip():
                raise InputError(f"{path}:{number}: text after `# EOF`")
            continue
        if not line.strip() or (line.startswith("#") and line != "# EOF"):
            continue  # HELP, TYPE and UNIT carry nothing the backtest needs
        if line == "# EOF":
            ended = True
            continue
        _add_sample(path, number, line, series, by_labels)
    if not ended:
        raise InputError(f"{path}: no `# EOF` line at the end (an OpenMetrics file ends with one; truncated?)")
    return History(by_labels.values())


def _add_sample(
    path: Path, number: int, line: str, series: dict[str, Series], by_labels: dict[LabelSet, Series]
) -> None:
    head, _, rest = line.rpartition(" ")
    head, _, value_text = head.rpartition(" ")
    one = series.get(head)
    if one is None or " # " in line:
        head, value_text, rest = _split_slowly(path, number, line)
        one = series.get(head)
        if one is None:
            try:
                labels = scan_series(head, 0)[0]
            except SelectorError as error:
                raise InputError(f"{path}:{number}: {error}") from None
            one = series[head] = by_labels.setdefault(labels, Series(labels))
    try:
        value = float(value_text)
        ms = round(float(rest) * 1000)
    except ValueError:
        raise InputError(f"{path}:{number}: expected `series value timestamp`, got {line[:80]!r}") from None
    if one.times and ms <= one.times[-1]:
        raise InputError(
            f"{path}:{number}: timestamp {rest} of {format_series(one.labels)} is not after the previous one"
            " (timestamps must increase within a series)"
        )
    one.times.append(ms)
    one.values.append(value)


def _split_slowly(path: Path, number: int, line: str) -> tuple[str, str, str]:
    """The series text, the value and the timestamp, read properly (quotes, spaces in values, exemplars)."""
    try:
        _, end = scan_series(line, 0)
    except SelectorError as error:
        raise InputError(f"{path}:{number}: {error}") from None
    fields = line[end:].split(" # ")[0].split()
    if len(fields) == 1:
        raise InputError(f"{path}:{number}: sample has no timestamp (a backtest needs one, in seconds)")
    if len(fields) != 2:
        raise InputError(f"{path}:{number}: expected `series value timestamp`, got {line[:80]!r}")
    return line[:end], fields[0], fields[1]
