"""Shared paths and helpers for the deploy/ tests: the real promtool and amtool binaries, never skipped."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.markdown import Document

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
README = ROOT / "README.md"

# Every alert's runbook_url is this plus the lower-cased alert name: GitHub's anchor for "### AlertName".
RUNBOOK_BASE = "https://github.com/allim/allim/blob/main/README.md#"


def binary(name: str) -> str:
    """The path of a required binary; its absence fails the test (make test installs it)."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: run `make test` (scripts/install-system-deps.sh) or apt-get install it"
    return path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def rule_groups() -> list[dict[str, Any]]:
    """The groups of every rule file, in file-name order, as parsed YAML."""
    return [group for path in sorted(RULES_DIR.glob("*.yml")) for group in yaml.safe_load(path.read_text())["groups"]]


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule (recording rules left out) of every rule file."""
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def readme_anchors() -> set[str]:
    return Document.read(README).anchors


def seconds(duration: str) -> int:
    """A Prometheus duration (`1h30m`, `5m`) in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return int(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", duration)))
