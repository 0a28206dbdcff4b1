#!/usr/bin/env python3
"""Backtest benchmark: a month of one-minute samples for 50 series through rules shaped like the shipped ones.

Generates the history (10 HetrixTools monitors with blips and outages, 10 Sentry projects and 10 GA4 properties
with daily and weekly cycles, 10 filesystems filling, 10 CPUs) and a rule file with three recording levels:
burn-rate error ratios over 5m..3d windows, seasonal baselines from `offset 1w/2w/3w`, bands from a day's spread,
and alerts with `for:` (the 1d and 3d windows over a recorded hourly ratio, as a subquery with an hourly step); then runs allim-backtest's pipeline on it several times and prints the median of each phase
(reading, blocks, recording levels, alerts, report). Timings taken while other work runs are indicative only.

    .venv/bin/python bench/backtest.py --runs 3
    .venv/bin/python bench/backtest.py --days 30 --series 50 --report   # with the pictures
"""

# ruff: noqa: E501 - the rule file below is YAML, its lines as long as its expressions

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allim.backtest.plots import write_report  # noqa: E402
from allim.backtest.progress import Timings  # noqa: E402
from allim.backtest.run import Options, run  # noqa: E402

START = 1_714_521_600  # 2024-05-01 00:00:00Z, a Wednesday
RULES = """groups:
  - name: slo
    rules:
{ratios}
      - record: monitor:hetrixtools_monitor_up:burnrate_page
        expr: |
          (monitor:hetrixtools_monitor_up:error_ratio1h > 14.4 * 0.001 and monitor:hetrixtools_monitor_up:error_ratio5m > 14.4 * 0.001)
            or (monitor:hetrixtools_monitor_up:error_ratio6h > 6 * 0.001 and monitor:hetrixtools_monitor_up:error_ratio30m > 6 * 0.001)
      - alert: HetrixToolsErrorBudgetBurnFast
        expr: monitor:hetrixtools_monitor_up:burnrate_page
        labels: {{severity: critical}}
      - alert: HetrixToolsErrorBudgetBurnSlow
        expr: |
          (monitor:hetrixtools_monitor_up:error_ratio1d > 3 * 0.001 and monitor:hetrixtools_monitor_up:error_ratio2h > 3 * 0.001)
            or (monitor:hetrixtools_monitor_up:error_ratio3d > 0.001 and monitor:hetrixtools_monitor_up:error_ratio6h > 0.001)
        labels: {{severity: warning}}
      - alert: HetrixToolsMonitorDown
        expr: hetrixtools_monitor_up == 0
        for: 1m
  - name: seasonal
    rules:
{seasonal}
  - name: host
    rules:
      - alert: HostDiskFillingUp
        expr: predict_linear(host_filesystem_avail_bytes[6h], 24 * 3600) < 0 and host_filesystem_avail_bytes < 0.2 * 1e11
        for: 1h
      - alert: HostCpuUsageHigh
        expr: avg_over_time(host_cpu_usage_ratio[15m]) > 0.9
        for: 15m
"""
RATIO = """      - record: monitor:hetrixtools_monitor_up:error_ratio{window}
        expr: 1 - avg_over_time(hetrixtools_monitor_up[{window}])"""
# Long windows from the recorded hourly ratio at an hourly step: 72 points per evaluation for 3d instead of 4,320
# raw samples (ten times faster; `--raw-long-windows` measures the raw shape).
LONG_RATIO = """      - record: monitor:hetrixtools_monitor_up:error_ratio{window}
        expr: avg_over_time(monitor:hetrixtools_monitor_up:error_ratio1h[{window}:1h])"""
SEASONAL = """      - record: project:{metric}:avg1h
        expr: avg_over_time({metric}[1h])
      - record: project:{metric}:baseline
        expr: |
          quantile without (week) (0.5,
            label_replace(project:{metric}:avg1h offset 1w, "week", "1", "", "")
            or label_replace(project:{metric}:avg1h offset 2w, "week", "2", "", "")
            or label_replace(project:{metric}:avg1h offset 3w, "week", "3", "", ""))
      - record: project:{metric}:spread1d
        expr: stddev_over_time(project:{metric}:avg1h[1d:1h])
      - record: project:{metric}:margin
        expr: 2 * project:{metric}:spread1d > 0.5 * project:{metric}:baseline or 0.5 * project:{metric}:baseline
      - record: project:{metric}:band_upper
        expr: project:{metric}:baseline + project:{metric}:margin
      - record: project:{metric}:band_lower
        expr: clamp_min(project:{metric}:baseline - project:{metric}:margin, 0)
      - alert: {alert}High
        expr: project:{metric}:avg1h > project:{metric}:band_upper and project:{metric}:avg1h > 10
        for: 30m
      - alert: {alert}Low
        expr: project:{metric}:avg1h < project:{metric}:band_lower and project:{metric}:baseline > 10
        for: 30m"""


def rules_text(raw_long_windows: bool = False) -> str:
    ratios = "\n".join(RATIO.format(window=w) for w in ("5m", "30m", "1h", "2h", "6h"))
    ratios += "\n" + "\n".join((RATIO if raw_long_windows else LONG_RATIO).format(window=w) for w in ("1d", "3d"))
    seasonal = "\n".join(
        SEASONAL.format(metric=metric, alert=alert)
        for metric, alert in (("sentry_project_errors", "SentryErrors"), ("ga4_active_users", "Ga4Traffic"))
    )
    return RULES.format(ratios=ratios, seasonal=seasonal)


def history_text(days: int, series: int, seed: int = 17) -> str:
    rng = random.Random(seed)
    per_kind = max(1, series // 5)
    minutes = days * 1440
    lines: list[str] = []
    for n in range(per_kind):
        outages = {rng.randrange(minutes) for _ in range(6)}
        down = {m + k for m in outages for k in range(rng.choice((1, 2, 20)))}
        lines += [
            f'hetrixtools_monitor_up{{monitor_id="{n}"}} {0 if m in down else 1} {START + m * 60}'
            for m in range(minutes)
        ]
    for kind, scale in (("sentry_project_errors", 30), ("ga4_active_users", 400)):
        for n in range(per_kind):
            for m in range(minutes):
                day = (m // 1440 + 2) % 7  # 0 = Monday
                daily = 1 + 0.6 * math.sin((m % 1440) / 1440 * 2 * math.pi - math.pi / 2)
                weekly = 0.6 if day >= 5 else 1.0
                value = max(0.0, scale * daily * weekly * rng.uniform(0.85, 1.15))
                lines.append(f'{kind}{{project="p{n}"}} {value:.1f} {START + m * 60}')
    for n in range(per_kind):
        lines += [
            f'host_filesystem_avail_bytes{{mountpoint="/m{n}"}} {1e11 - m * 1e11 / (minutes * (n + 1.2)):.0f} {START + m * 60}'
            for m in range(minutes)
        ]
        lines += [
            f'host_cpu_usage_ratio{{cpu="{n}"}} {rng.uniform(0.1, 0.6):.3f} {START + m * 60}' for m in range(minutes)
        ]
    return "\n".join(lines) + "\n# EOF\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--series", type=int, default=50, help="split evenly over five kinds")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--report", action="store_true", help="also draw the pictures (the report phase)")
    parser.add_argument("--raw-long-windows", action="store_true", help="1d and 3d windows over the raw samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="allim-bench-backtest-") as work:
        rules, history = Path(work) / "rules.yml", Path(work) / "history.om"
        rules.write_text(rules_text(args.raw_long_windows))
        history.write_text(history_text(args.days, args.series))
        print(
            f"history: {args.days} days x {args.series} series of one-minute samples ({history.stat().st_size >> 20} MiB)"
        )
        figures: dict[str, list[float]] = {}
        for number in range(1, args.runs + 1):
            timings = Timings()
            began = time.perf_counter()
            result = run(Options(rules=[str(rules)], history=history), lambda _: None, timings)
            if args.report:
                with timings.measure("report"):
                    write_report(result, Path(work) / "report")
            total = time.perf_counter() - began
            phases = {"read": total - sum(timings.phases.values()), **timings.phases, "total": total}
            for phase, seconds in phases.items():
                figures.setdefault(phase, []).append(seconds)
            alerts = len(result.results[0].alerts)
            print(f"run {number}: " + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()) + f"; {alerts} alerts")
        print("median: " + ", ".join(f"{k} {statistics.median(v):.1f}s" for k, v in figures.items()))


if __name__ == "__main__":
    main()
