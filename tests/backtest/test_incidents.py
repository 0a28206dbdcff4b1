"""The incidents file: YAML or JSON, families as prefixes or name lists, times as RFC 3339 or Unix seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from allim.backtest.errors import InputError
from allim.backtest.incidents import load_incidents


def test_incidents_yaml_with_prefix_list_labels_and_both_time_spellings(tmp_path: Path) -> None:
    path = tmp_path / "incidents.yml"
    path.write_text(
        "- family: HetrixTools\n  start: 2024-05-01T10:00:00Z\n  end: '2024-05-01T10:20:00+00:00'\n"
        "  labels: {monitor_name: web}\n"
        "- family: [HostDiskAlmostFull, HostDiskFillingUp]\n  start: 1714557600\n  end: 1714561200.5\n"
    )
    first, second = load_incidents(path)
    assert (first.start, first.end, first.labels) == (1_714_557_600_000, 1_714_558_800_000, {"monitor_name": "web"})
    assert first.family.covers("HetrixToolsMonitorDown") and not first.family.covers("SentryErrorSpike")
    assert second.family.name == "HostDiskAlmostFull,HostDiskFillingUp"
    assert second.family.covers("HostDiskFillingUp") and not second.family.covers("HostDiskAlmostFullSoon")
    assert second.end == 1_714_561_200_500
    assert first.matches({"monitor_name": "web", "severity": "critical"}) and not first.matches({"monitor_name": "api"})


def test_incidents_json_object_with_an_incidents_key(tmp_path: Path) -> None:
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps({"incidents": [{"family": "Sentry", "start": 10, "end": 20}]}))
    (incident,) = load_incidents(path)
    assert (incident.family.prefix, incident.start, incident.end, incident.labels) == ("Sentry", 10_000, 20_000, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- family: Host\n  start: 10\n", "incident 1: `end` is required"),
        ("- {family: Host, start: 20, end: 10}\n", "incident 1: end is before start"),
        (
            "- {family: 3, start: 1, end: 2}\n",
            "incident 1: family must be an alert-name prefix or a list of alert names",
        ),
        ("- {family: Host, start: soon, end: 2}\n", "incident 1: start: 'soon' is not a time"),
        ("- {family: Host, start: 1, end: 2, labels: [a]}\n", "incident 1: labels must map label names to values"),
        ("family: Host\n", "expected a list of {family, start, end}"),
        ("- [unclosed\n", "not valid YAML"),
        ("- 5\n", "incident 1: expected a mapping with family, start and end"),
    ],
)
def test_incidents_bad_input_names_the_incident(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "incidents.yml"
    path.write_text(text)
    with pytest.raises(InputError, match=f"{re.escape(str(path))}.*{re.escape(message)}"):
        load_incidents(path)
