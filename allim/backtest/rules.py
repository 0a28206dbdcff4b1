"""Rule files: collected from files and folders, checked by `promtool check rules`, read into rules with the metric
names each reads, and the recording rules sorted into levels (a level reads only the raw history and lower levels)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from allim.backtest.durations import parse_duration
from allim.backtest.errors import InputError
from allim.backtest.promql import metric_names

RULE_FILE_SUFFIXES = (".yml", ".yaml")
_LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Rule:
    """One recording or alerting rule, with its group's evaluation interval."""

    file: str
    group: str
    name: str
    expr: str
    interval_ms: int
    alerting: bool
    hold_ms: int = 0
    keep_firing_ms: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    reads: frozenset[str] = field(default_factory=frozenset)
    position: int = 0  # in its rule file: tells apart two rules that are otherwise the same

    def output_labels(self, series: dict[str, str]) -> dict[str, str]:
        """The rule's labels over the result's (rule labels win), `{{ $labels.x }}` expanded as Prometheus does."""
        out = {key: value for key, value in series.items() if key != "__name__"}
        for key, value in self.labels:
            out[key] = _LABEL_TEMPLATE.sub(lambda match: series.get(match.group(1), ""), value)
        out["alertname" if self.alerting else "__name__"] = self.name
        return out


@dataclass
class RuleSet:
    """The rules of one `--rules` (or `--baseline`) argument list."""

    title: str
    files: list[Path]
    rules: list[Rule]

    @property
    def recording(self) -> list[Rule]:
        return [rule for rule in self.rules if not rule.alerting]

    @property
    def alerting(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.alerting]

    def recorded_names(self) -> set[str]:
        return {rule.name for rule in self.recording}

    def raw_metric_names(self) -> set[str]:
        """The metrics the rules read from the history: what they read minus what they record themselves."""
        return set().union(*(rule.reads for rule in self.rules)) - self.recorded_names()

    def raw_reads(self, rule: Rule) -> set[str]:
        """The history's metrics behind a rule, through the recording rules it reads."""
        producers: dict[str, list[Rule]] = {}
        for one in self.recording:
            producers.setdefault(one.name, []).append(one)
        seen: set[str] = set()
        pending = list(rule.reads)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for producer in producers.get(name, []):
                pending.extend(producer.reads)
        return seen - set(producers)

    def recording_levels(self) -> list[list[Rule]]:
        """Recording rules by dependency level: level 0 reads only raw series, level n reads level n-1 at most."""
        producers: dict[str, list[Rule]] = {}
        for rule in self.recording:
            producers.setdefault(rule.name, []).append(rule)
        levels: dict[int, int] = {}

        def level(rule: Rule, path: tuple[str, ...]) -> int:
            key = id(rule)
            if key in levels:
                return levels[key]
            if rule.name in path:
                loop = " -> ".join((*path[path.index(rule.name) :], rule.name))
                raise InputError(f"--rules: recording rules read each other in a loop: {loop}")
            deps = [dep for name in rule.reads if name != rule.name for dep in producers.get(name, [])]
            levels[key] = 1 + max((level(dep, (*path, rule.name)) for dep in deps), default=-1)
            return levels[key]

        by_level: dict[int, list[Rule]] = {}
        for rule in self.recording:
            by_level.setdefault(level(rule, ()), []).append(rule)
        return [by_level[number] for number in sorted(by_level)]


def load_rule_set(paths: list[str], default_interval_ms: int, promtool: str, flag: str = "--rules") -> RuleSet:
    """Every rule file under `paths`, checked by promtool first (its first complaint becomes the exit-2 line)."""
    files = collect_rule_files(paths, flag)
    check_rule_files(files, promtool, flag)
    rules = [rule for path in files for rule in _read_rule_file(path, default_interval_ms)]
    return RuleSet(title=" ".join(paths), files=files, rules=rules)


def collect_rule_files(paths: list[str], flag: str) -> list[Path]:
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(one for one in path.iterdir() if one.suffix in RULE_FILE_SUFFIXES and one.is_file())
            if not found:
                raise InputError(f"{flag} {text}: no *.yml or *.yaml rule files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{flag} {text}: no such file or folder")
    return files


def check_rule_files(files: list[Path], promtool: str, flag: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, files)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode == 0:
        return
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines()]
    reasons = [line for line in lines if line and line != "FAILED:" and not line.startswith(("Checking ", "SUCCESS"))]
    raise InputError(f"{flag}: promtool check rules rejects {reasons[0] if reasons else 'the rule files'}")


def _read_rule_file(path: Path, default_interval_ms: int) -> list[Rule]:
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules: list[Rule] = []
    for group in document.get("groups") or []:
        where = f"{path}: group {group['name']}"
        interval = default_interval_ms
        if group.get("interval"):
            interval = parse_duration(str(group["interval"]), f"{where}: interval")
        for entry in group.get("rules") or []:
            rules.append(replace(_rule(entry, str(path), str(group["name"]), interval), position=len(rules)))
    return rules


def _rule(entry: dict[str, Any], file: str, group: str, interval_ms: int) -> Rule:
    expr = str(entry["expr"])
    labels = tuple(sorted((str(key), str(value)) for key, value in (entry.get("labels") or {}).items()))
    reads = frozenset(metric_names(expr))
    if "alert" not in entry:
        return Rule(file, group, str(entry["record"]), expr, interval_ms, alerting=False, labels=labels, reads=reads)
    name = str(entry["alert"])
    where = f"{file}: group {group}: {name}"
    return Rule(
        file,
        group,
        name,
        expr,
        interval_ms,
        alerting=True,
        hold_ms=parse_duration(str(entry.get("for", "0")), f"{where}: for"),
        keep_firing_ms=parse_duration(str(entry.get("keep_firing_for", "0")), f"{where}: keep_firing_for"),
        labels=labels,
        reads=reads,
    )
