"""Labelled incident windows (YAML or JSON): `[{family, start, end, labels?}]`, times in RFC 3339 or Unix seconds.

`family` is a prefix of alert names (`HetrixTools`) or a list of alert names; `labels` ties the incident to the
series (and so the alerts) whose labels include them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from allim.backtest.durations import datetime_ms, parse_time
from allim.backtest.errors import InputError


@dataclass(frozen=True)
class Family:
    """Alerts that answer for one kind of incident: a name prefix, or a list of alert names."""

    name: str
    prefix: str | None = None
    alertnames: frozenset[str] = field(default_factory=frozenset)

    def covers(self, alertname: str) -> bool:
        return alertname.startswith(self.prefix) if self.prefix is not None else alertname in self.alertnames


@dataclass(frozen=True)
class Incident:
    family: Family
    start: int
    end: int
    labels: dict[str, str]
    number: int  # 1-based position in the file, for messages

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a series or an alert with `labels` is this incident's."""
        return all(labels.get(key) == value for key, value in self.labels.items())


def load_incidents(path: Path) -> list[Incident]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"--incidents {path}: cannot read it ({error})") from None
    try:
        document: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InputError(
            f"--incidents {path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {_one_line(error)}"
        ) from None
    if isinstance(document, dict) and "incidents" in document:
        document = document["incidents"]
    if not isinstance(document, list):
        raise InputError(f"--incidents {path}: expected a list of {{family, start, end}}")
    return [_incident(path, number, entry) for number, entry in enumerate(document, start=1)]


def _incident(path: Path, number: int, entry: Any) -> Incident:
    where = f"{path}: incident {number}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a mapping with family, start and end")
    for key in ("family", "start", "end"):
        if entry.get(key) in (None, ""):
            raise InputError(f"{where}: `{key}` is required")
    start, end = _time(entry["start"], f"{where}: start"), _time(entry["end"], f"{where}: end")
    if end < start:
        raise InputError(f"{where}: end is before start")
    labels = entry.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(value, str | int | float) for value in labels.values()):
        raise InputError(f"{where}: labels must map label names to values")
    return Incident(_family(entry["family"], where), start, end, {str(k): str(v) for k, v in labels.items()}, number)


def _family(value: Any, where: str) -> Family:
    if isinstance(value, str):
        return Family(name=value, prefix=value)
    if isinstance(value, list) and value and all(isinstance(name, str) for name in value):
        return Family(name=",".join(value), alertnames=frozenset(value))
    raise InputError(f"{where}: family must be an alert-name prefix or a list of alert names")


def _time(value: Any, what: str) -> int:
    if isinstance(value, dt.datetime):
        return datetime_ms(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    if isinstance(value, str):
        return parse_time(value, what, now=0.0)
    raise InputError(f"{what}: {value!r} is not a time (RFC 3339 or Unix seconds)")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
