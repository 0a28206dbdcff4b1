"""deploy/prometheus/objectives.yml: every key required, every bad value reported with its key, exit 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from allim.rules.config import OBJECTIVES, ConfigError, ko_duration, load_objectives, prom_duration
from tests.deploy.support import ROOT, run

SHIPPED = ROOT / OBJECTIVES


def shipped() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text())


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "objectives.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def problems(tmp_path: Path, doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_objectives(write(tmp_path, doc))
    return caught.value.problems


def test_the_shipped_objectives_load() -> None:
    objectives = load_objectives(SHIPPED)
    assert objectives.hetrixtools.objective == 99.9
    assert objectives.hetrixtools.period_s == 30 * 86400
    assert objectives.baseline.min_weeks <= objectives.baseline.weeks


def test_every_bad_value_is_reported_with_its_key(tmp_path: Path) -> None:
    doc = shipped()
    doc["hetrixtools"]["objective"] = 100
    doc["hetrixtools"]["monitors"] = {"shop": 80}
    doc["sentry"]["ceiling"]["high"] = 1200  # above critical
    doc["ga4"]["drop"]["band_min_ratio"] = 1.5
    doc["host"]["cpu"]["for"] = "soon"
    del doc["baseline"]["min_weeks"]
    doc["allim"]["typo_key"] = 1
    found = problems(tmp_path, doc)
    assert found == [
        "hetrixtools.objective: must be at most 99.999, got 100",
        "hetrixtools.monitors.shop: must be at least 90, got 80",
        "sentry.ceiling.high: must be below ceiling.critical (1000)",
        "ga4.drop.band_min_ratio: must be at most 1, got 1.5",
        "baseline.min_weeks: required",
        "host.cpu.for: must be a duration like 30s, 5m or a number of seconds, got 'soon'",
        "allim.typo_key: unknown key",
    ]


def test_a_missing_section_is_required(tmp_path: Path) -> None:
    doc = shipped()
    del doc["ga4"]
    assert "ga4: required" in problems(tmp_path, doc)


def test_make_rules_exits_2_naming_the_key(tmp_path: Path) -> None:
    doc = shipped()
    doc["sentry"]["spike"]["min_excess"] = -1
    path = write(tmp_path, doc)
    result = run(sys.executable, "-m", "allim.rules", "--check", "--objectives", str(path))
    assert result.returncode == 2
    assert "sentry.spike.min_excess: must be at least 0, got -1" in result.stderr
    assert result.stdout == ""


def test_durations_read_as_people_write_them() -> None:
    assert [prom_duration(s) for s in (0, 90, 300, 3600, 5400, 86400, 30 * 86400)] == [
        "0s", "1m30s", "5m", "1h", "1h30m", "1d", "30d",
    ]  # fmt: skip
    assert [ko_duration(s) for s in (90, 1800, 86400)] == ["1분30초", "30분", "1일"]
