"""The report draws a rule's recorded baseline and band on the series of their metric."""

from __future__ import annotations

from pathlib import Path

from allim.backtest.plots import _alerts_of, _bands, write_report
from allim.backtest.run import Options, run
from tests.backtest.support import DEMO_RULES, demo_samples, openmetrics

BAND_RULES = (
    DEMO_RULES
    + """      - record: job:up:baseline
        expr: avg_over_time(up[30m])
      - record: job:up:band_upper
        expr: job:up:baseline + 0.2
      - record: job:up:band_lower
        expr: job:up:baseline - 0.2
      - record: job:other:baseline
        expr: vector(1)
"""
)


def test_report_draws_baseline_and_band_of_the_series_metric(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(BAND_RULES)
    (tmp_path / "h.om").write_text(openmetrics(demo_samples(90)))
    result = run(Options(rules=[str(tmp_path / "rules.yml")], history=tmp_path / "h.om"), lambda _: None)
    (run_result,) = result.results
    series_a = next(s for labels, s in result.history.series.items() if ("job", "a") in labels)
    bands = _bands(run_result, series_a)
    assert sorted(bands) == ["band_lower", "band_upper", "baseline"]  # job:other:baseline is another metric's
    times, values = bands["baseline"]
    assert len(times) == 90 and min(values) < 1.0  # the outage pulls the baseline down
    assert [alert.alertname for alert in _alerts_of(run_result, series_a)] == ["Down", "LowAvg"]
    series_b = next(s for labels, s in result.history.series.items() if ("job", "b") in labels)
    assert _alerts_of(run_result, series_b) == []
    write_report(result, tmp_path / "report")
    assert len(list((tmp_path / "report").glob("*.png"))) == 2
