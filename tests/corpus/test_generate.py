"""The generator: the same seed gives the same bytes, the two history formats hold the same samples, incidents.yml
follows the scenario, and the old rules are rules promtool accepts."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.processes import REPO
from tests.corpus import clock, generate, history, traffic
from tests.corpus.history import MISSING, Series
from tests.deploy.support import binary, run


@pytest.mark.slow
def test_generate_writes_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    """Two runs in fresh interpreters with different hash seeds (set order must not leak into the output)."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.corpus.generate", "--out", str(tmp_path / seed), "--format", "csv"],
            cwd=REPO,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in ("1", "2")
    ]
    for one in runs:
        out, err = one.communicate(timeout=300)
        assert one.returncode == 0, err.decode()
    first, second = ((tmp_path / seed / "history.csv").read_bytes() for seed in ("1", "2"))
    assert first == second
    assert first.count(b"\n") == clock.MINUTES + 1


def test_another_seed_gives_another_corpus() -> None:
    assert traffic.site_activity(17)[:1440] == traffic.site_activity(17)[:1440]
    assert traffic.site_activity(17)[:1440] != traffic.site_activity(18)[:1440]


def _two_series() -> list[Series]:
    gappy = [MISSING if minute % 7 == 0 else minute / 3 for minute in range(clock.MINUTES)]
    return [
        Series.of("host_cpu_usage_ratio", {"job": "j", "instance": 'a"b'}, gappy, 4),
        Series.filled("up", {"job": "j", "instance": "i"}, 1.0),
    ]


def _from_openmetrics(text: str) -> set[tuple[str, int, str]]:
    lines = text.splitlines()
    assert lines[-1] == "# EOF" and lines[0].startswith("# TYPE ")
    samples = set()
    for line in lines:
        if not line.startswith("#"):
            selector, value, timestamp = line.rsplit(" ", 2)
            samples.add((selector, int(timestamp), value))
    return samples


def _from_csv(text: str) -> set[tuple[str, int, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[0] == "timestamp"
    return {(header[i], int(row[0]), cell) for row in rows[1:] for i, cell in enumerate(row) if i and cell}


def test_openmetrics_and_csv_hold_the_same_samples() -> None:
    series = _two_series()
    openmetrics, table = io.StringIO(), io.StringIO()
    history.write_openmetrics(series, openmetrics)
    history.write_csv(series, table)
    from_openmetrics = _from_openmetrics(openmetrics.getvalue())
    assert from_openmetrics == _from_csv(table.getvalue())
    gappy = 'host_cpu_usage_ratio{instance="a\\"b",job="j"}'
    assert (gappy, clock.START_UNIX + 60, "0.3333") in from_openmetrics
    assert not any(s[0] == gappy and s[1] == clock.START_UNIX for s in from_openmetrics), "no sample for NaN"
    assert len(from_openmetrics) == clock.MINUTES * 2 - math.ceil(clock.MINUTES / 7)


def test_incidents_file_follows_the_scenario() -> None:
    assert generate.main(["--check-incidents"]) == 0, "run: python -m tests.corpus.generate --write-incidents"


def test_old_rules_are_valid_rule_files() -> None:
    files = sorted(str(path) for path in generate.OLD_RULES.glob("*.yml"))
    assert len(files) == 5
    result = run(binary("promtool"), "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
