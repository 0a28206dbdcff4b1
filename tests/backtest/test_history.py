"""History readers (OpenMetrics, CSV) and the OpenMetrics they write for promtool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from allim.backtest.csvfile import read_csv
from allim.backtest.errors import InputError
from allim.backtest.history import format_timestamp
from allim.backtest.openmetrics import read_openmetrics
from allim.backtest.selectors import parse_series


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_openmetrics_reads_series_values_and_timestamps_in_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, "h.om", '# TYPE up gauge\nup{job="a"} 1 100\nup{job="a"} 0 160.5\nup 1 100\n# EOF\n')
    history = read_openmetrics(path)
    series = history.series[parse_series('up{job="a"}')]
    assert list(series.times) == [100_000, 160_500]
    assert list(series.values) == [1.0, 0.0]
    assert len(history) == 2
    assert (history.first_ms, history.last_ms) == (100_000, 160_500)


def test_openmetrics_label_values_with_spaces_quotes_and_exemplars(tmp_path: Path) -> None:
    text = 'm{a="x y",b="q\\"uote"} 1 100\nm{b="q\\"uote",a="x y"} 2 101 # {trace_id="1"} 1 100\n# EOF\n'
    history = read_openmetrics(write(tmp_path, "h.om", text))
    (series,) = history.series.values()
    assert dict(series.labels) == {"__name__": "m", "a": "x y", "b": 'q"uote'}
    assert list(series.values) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("up 1 100\nup 1 100\n# EOF\n", "h.om:2: timestamp 100 of up is not after the previous one"),
        ("up 1 100\nup 1 90\n# EOF\n", "h.om:2: timestamp 90 of up is not after the previous one"),
        ("up 1 100\n", "no `# EOF` line at the end"),
        ("up 1\n# EOF\n", "h.om:1: sample has no timestamp"),
        ("up one 100\n# EOF\n", "h.om:1: expected `series value timestamp`"),
        ('up{job="a} 1 100\n# EOF\n', "h.om:1: unterminated label value"),
        ('up{job=~"a"} 1 100\n# EOF\n', "h.om:1: label job: only `=` names a series"),
        ("up 1 100\n# EOF\nup 1 200\n", "h.om:3: text after `# EOF`"),
    ],
)
def test_openmetrics_bad_input_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message.replace("h.om", str(tmp_path / "h.om")))):
        read_openmetrics(write(tmp_path, "h.om", text))


def test_csv_reads_a_column_per_series(tmp_path: Path) -> None:
    header = 'timestamp,up{job="a"},"hetrixtools_monitor_up{monitor_name=""web, eu"",target=""x""}"\n'
    text = header + "100,1,1\n160,0,\n2024-05-01T10:00:00Z,,1\n"
    history = read_csv(write(tmp_path, "h.csv", text))
    up = history.series[parse_series('up{job="a"}')]
    monitor = history.series[parse_series('hetrixtools_monitor_up{monitor_name="web, eu",target="x"}')]
    assert list(up.times) == [100_000, 160_000]
    assert list(monitor.times) == [100_000, 1_714_557_600_000]
    assert list(monitor.values) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("timestamp\n1,2\n", "h.csv:1: the header needs a timestamp column and at least one series"),
        ("t,up{a=b}\n", "h.csv:1: column 2 ('up{a=b}') is not a series"),
        ("t,up,up\n", "h.csv:1: column 3: up appears twice"),
        ("t,up\n100,1\n100,2\n", "h.csv:3: timestamp 100 is not after the previous row's"),
        ("t,up\n100,x\n", "h.csv:2: 'x' for up is not a number"),
        ("t,up\n100,1,2\n", "h.csv:2: 3 cells, the header has 2"),
        ("t,up\nyesterday,1\n", "h.csv:2: timestamp: 'yesterday' is not a time"),
    ],
)
def test_csv_bad_input_names_file_and_row(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message.replace("h.csv", str(tmp_path / "h.csv")))):
        read_csv(write(tmp_path, "h.csv", text))


def test_history_round_trips_through_its_openmetrics(tmp_path: Path) -> None:
    original = read_openmetrics(write(tmp_path, "a.om", 'x{a="1"} 0.1 100.25\nx{a="1"} NaN 101\ny +Inf 100\n# EOF\n'))
    original.write_openmetrics(tmp_path / "b.om")
    again = read_openmetrics(tmp_path / "b.om")
    assert {k: list(v.times) for k, v in again.series.items()} == {k: list(v.times) for k, v in original.series.items()}
    assert (tmp_path / "b.om").read_text().endswith("# EOF\n")


def test_format_timestamp_survives_promtools_truncation() -> None:
    # promtool computes int64(seconds * 1000): a plain 0.123 would become 122 ms for some values.
    for ms in (1_714_557_600_123, 1_714_557_600_001, 1_714_557_600_999, 1_714_557_600_000):
        assert int(float(format_timestamp(ms)) * 1000) == ms


def test_history_on_grid_and_regular_gap(tmp_path: Path) -> None:
    # x: one-minute samples with a 62 s jitter and a ten-minute absence; y: 61 s apart
    text = "x 1 60\nx 1 120\nx 1 182\nx 1 240\nx 1 840\ny 1 17\ny 1 78\n# EOF\n"
    history = read_openmetrics(write(tmp_path, "h.om", text))
    assert history.regular_gap_ms() == 62_000
    assert not history.on_grid(60_000)
    assert history.on_grid(1000)
    assert read_openmetrics(write(tmp_path, "one.om", "x 1 60\n# EOF\n")).regular_gap_ms() is None
