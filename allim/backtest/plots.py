"""`--report DIR`: a PNG per series (values, baseline and band, labelled windows, alert spans) and an index.html
that holds the pictures, the alerts and the scores. matplotlib is the optional extra `allim[backtest]`."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from allim.backtest.alerts import Alert
from allim.backtest.durations import format_duration, format_time
from allim.backtest.errors import InputError
from allim.backtest.history import Series
from allim.backtest.output import result_json
from allim.backtest.recording import BAND_RULE
from allim.backtest.run import Result, RuleSetResult
from allim.backtest.selectors import format_labels, format_series, metric_name, without_name

LANE_COLOURS = {"rules": "#c0392b", "baseline": "#7f8c8d"}


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--report needs matplotlib, the optional extra: pip install 'allim[backtest]'") from None


def write_report(result: Result, directory: Path) -> None:
    """One picture per series of the history, then index.html beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    pictures = []
    for number, labels in enumerate(sorted(result.history.series), start=1):
        series = result.history.series[labels]
        name = f"{number:03d}-{_slug(series.name)}-{hashlib.sha1(format_series(labels).encode()).hexdigest()[:8]}.png"
        _draw(result, series, directory / name)
        pictures.append({"file": name, "series": format_series(labels)})
    (directory / "index.html").write_text(_index(result, pictures), encoding="utf-8")


def _draw(result: Result, series: Series, path: Path) -> None:
    import numpy as np
    from matplotlib.figure import Figure

    runs = result.results
    figure = Figure(figsize=(11, 4), layout="constrained")
    values, lanes = figure.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    times = np.array(series.times, dtype="datetime64[ms]")
    values.plot(times, np.array(series.values), linewidth=0.8, color="#2c3e50", label="value")
    bands = _bands(runs[0], series)
    for kind, (band_times, band_values) in bands.items():
        style = "--" if kind == "baseline" else ":"
        values.plot(
            np.array(band_times, dtype="datetime64[ms]"),
            band_values,
            style,
            color="#16a085",
            linewidth=0.8,
            label=kind.replace("_", " "),
        )
    if "band_upper" in bands and "band_lower" in bands and bands["band_upper"][0] == bands["band_lower"][0]:
        values.fill_between(
            np.array(bands["band_upper"][0], dtype="datetime64[ms]"),
            bands["band_lower"][1],
            bands["band_upper"][1],
            color="#16a085",
            alpha=0.12,
            linewidth=0,
        )
    labels = without_name(series.labels)
    for incident in result.incidents:
        if incident.matches(labels):
            for axes in (values, lanes):
                axes.axvspan(
                    np.datetime64(incident.start, "ms"),
                    np.datetime64(incident.end, "ms"),
                    color="#f39c12",
                    alpha=0.25,
                    linewidth=0,
                )
    for row, run in enumerate(runs):
        for alert in _alerts_of(run, series):
            end = alert.end if alert.end is not None else result.last_ms
            lanes.plot(
                [np.datetime64(alert.start, "ms"), np.datetime64(end, "ms")],
                [row, row],
                color=LANE_COLOURS[run.role],
                linewidth=6,
                solid_capstyle="butt",
            )
    lanes.set_yticks(range(len(runs)), [run.role for run in runs])
    lanes.set_ylim(-0.7, len(runs) - 0.3)
    lanes.set_xlim(np.datetime64(result.first_ms, "ms"), np.datetime64(result.last_ms, "ms"))
    values.set_title(format_series(series.labels), fontsize=9, loc="left")
    values.legend(loc="upper right", fontsize=7)
    figure.savefig(path, dpi=90)


def _bands(run: RuleSetResult, series: Series) -> dict[str, tuple[list[int], list[float]]]:
    """Baseline and band series recorded for this series' metric, with labels the series has."""
    found: dict[str, tuple[list[int], list[float]]] = {}
    labels = without_name(series.labels)
    for band_labels, points in run.recorded.bands.items():
        match = BAND_RULE.match(metric_name(band_labels))
        own = without_name(band_labels)
        if match and match.group("metric") == series.name and all(labels.get(k) == v for k, v in own.items()):
            found.setdefault(match.group("kind"), points)
    return found


def _alerts_of(run: RuleSetResult, series: Series) -> list[Alert]:
    """Alerts of rules that read this series' metric (through recording rules too), labels not contradicting it."""
    labels = without_name(series.labels)
    return [
        alert
        for alert in run.alerts
        if series.name in run.rule_set.raw_reads(alert.rule) and _consistent(alert.labels, labels)
    ]


def _consistent(first: dict[str, str], second: dict[str, str]) -> bool:
    return all(second[key] == value for key, value in first.items() if key in second)


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]+", "_", text)[:60]


def _index(result: Result, pictures: list[dict[str, str]]) -> str:
    template = resources.files("allim.backtest").joinpath("templates/report.html").read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    runs: list[dict[str, Any]] = [
        {
            "role": run.role,
            "title": run.rule_set.title,
            "alerts": [
                {
                    "alertname": alert.alertname,
                    "labels": format_labels({k: v for k, v in alert.labels.items() if k != "alertname"}),
                    "start": format_time(alert.start),
                    "end": format_time(alert.end) if alert.end is not None else "(firing)",
                    "duration": format_duration((alert.end if alert.end is not None else result.last_ms) - alert.start),
                }
                for alert in run.alerts
            ],
        }
        for run in result.results
    ]
    return environment.from_string(template).render(
        first=format_time(result.first_ms),
        last=format_time(result.last_ms),
        runs=runs,
        scores=result_json(result)["scores"],
        pictures=pictures,
        series_count=len(result.history),
        lookback=format_duration(result.lookback_ms),
    )
