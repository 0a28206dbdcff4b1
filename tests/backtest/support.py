"""Running allim-backtest as a user does (`python -m allim.backtest`) on small histories written by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from testkit.processes import REPO

START = 1_714_557_600  # 2024-05-01 10:00:00Z, a whole minute

DEMO_RULES = """groups:
  - name: demo
    rules:
      - record: job:up:avg5m
        expr: avg_over_time(up[5m])
      - record: job:up:low
        expr: job:up:avg5m < 0.5
      - alert: Down
        expr: up == 0
        for: 2m
        labels:
          severity: critical
      - alert: LowAvg
        expr: job:up:low
        keep_firing_for: 3m
"""


def demo_samples(minutes: int = 180) -> dict[str, list[tuple[float, float]]]:
    """up{job="a"} down 10:30-10:44 and for two minutes at 11:00; up{job="b"} always up; one sample a minute."""
    down = set(range(30, 45)) | {60, 61}
    return {
        'up{job="a"}': [(START + i * 60, 0.0 if i in down else 1.0) for i in range(minutes)],
        'up{job="b"}': [(START + i * 60, 1.0) for i in range(minutes)],
    }


def openmetrics(samples: dict[str, list[tuple[float, float]]]) -> str:
    lines = [f"{series} {value} {ts}" for series, points in samples.items() for ts, value in points]
    return "\n".join(lines) + "\n# EOF\n"


def csv_text(samples: dict[str, list[tuple[float, float]]]) -> str:
    times = sorted({ts for points in samples.values() for ts, _ in points})
    by_series = {series: dict(points) for series, points in samples.items()}
    header = "timestamp," + ",".join('"' + series.replace('"', '""') + '"' for series in samples)
    rows = [",".join([str(ts), *(str(by_series[s].get(ts, "")) for s in samples)]) for ts in times]
    return "\n".join([header, *rows]) + "\n"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Backtest:
    """Runs the command with its own TMPDIR, so a test can see that the temp dirs are gone afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir()

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def command(self, args: Iterable[str], python: list[str] | None = None) -> list[str]:
        return [*(python or [sys.executable, "-m", "allim.backtest"]), *map(str, args)]

    def env(self) -> dict[str, str]:
        return {**os.environ, "TMPDIR": str(self.tmpdir)}

    def run(self, *args: object, python: list[str] | None = None, cwd: Path = REPO, timeout: float = 300) -> Outcome:
        result = subprocess.run(
            self.command(map(str, args), python),
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=cwd,
            timeout=timeout,
        )
        return Outcome(result.returncode, result.stdout, result.stderr)

    def start(self, *args: object) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(map(str, args)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=REPO,
        )

    def leftovers(self) -> list[str]:
        return sorted(path.name for path in self.tmpdir.iterdir())

    def prometheus_pids(self) -> list[int]:
        """Prometheus processes serving a TSDB under this test's TMPDIR."""
        return prometheus_pids_under(self.tmpdir)


def prometheus_pids_under(directory: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"prometheus") and any(str(directory).encode() in arg for arg in cmdline):
            pids.append(int(entry.name))
    return pids
