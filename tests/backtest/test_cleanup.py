"""The backtest's Prometheus and temp dirs go away however the run ends: Ctrl-C, SIGTERM, even SIGKILL."""

from __future__ import annotations

import math
import signal
from pathlib import Path

import pytest

from testkit.waiting import wait_until
from tests.backtest.support import START, Backtest

# Three days of ten series and a median over six hours: a few seconds of queries, long enough to interrupt.
SLOW_RULES = """groups:
  - name: slow
    rules:
      - record: host:load:median6h
        expr: quantile_over_time(0.5, load[6h])
      - alert: LoadHigh
        expr: load > host:load:median6h + 1
"""


@pytest.fixture
def backtest(tmp_path: Path) -> Backtest:
    backtest = Backtest(tmp_path)
    backtest.write("rules.yml", SLOW_RULES)
    lines = [
        f'load{{host="h{host}"}} {math.sin(minute / 100 + host):.3f} {START + minute * 60}'
        for host in range(10)
        for minute in range(3 * 1440)
    ]
    backtest.write("h.om", "\n".join(lines) + "\n# EOF\n")
    return backtest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cleanup_on_interrupt_stops_prometheus_and_removes_temp_dirs(backtest: Backtest, sig: signal.Signals) -> None:
    process = backtest.start("--rules", backtest.dir / "rules.yml", "--history", backtest.dir / "h.om")
    try:
        (prometheus,) = wait_until(backtest.prometheus_pids, timeout=60, what="the backtest's prometheus")  # type: ignore[misc]
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert (
        err.splitlines()[-1] == "allim-backtest: interrupted; its Prometheus is stopped and its temp dirs are removed"
    )
    assert not Path(f"/proc/{prometheus}").exists() or backtest.prometheus_pids() == []
    assert backtest.leftovers() == []


def test_cleanup_prometheus_dies_with_a_killed_backtest(backtest: Backtest) -> None:
    process = backtest.start("--rules", backtest.dir / "rules.yml", "--history", backtest.dir / "h.om")
    try:
        wait_until(backtest.prometheus_pids, timeout=60, what="the backtest's prometheus")
        process.kill()  # SIGKILL: no finally runs; the kernel's parent-death signal stops Prometheus
        process.communicate(timeout=30)
        wait_until(lambda: backtest.prometheus_pids() == [], timeout=30, what="prometheus to exit")
    finally:
        process.kill()
