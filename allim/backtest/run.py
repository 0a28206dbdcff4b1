"""The pipeline: rules and history in, alerts (and scores) out, with its Prometheus and temp dirs always removed.

Staleness. Live Prometheus writes a staleness marker when a scraped series disappears (at the next scrape) and when
a recording rule stops returning a series (at the next evaluation), so an instant selector stops seeing it at once.
Backfilled blocks hold no such markers (OpenMetrics cannot carry them, nor does the HTTP API export them): a series
that stops would stay visible for the whole lookback delta (5m by default), stretching alerts and bridging the gaps
that should reset a pending `for:`. The backtest's Prometheus runs with a lookback delta that stands in for them,
the longest regular gap between samples (at most 1.5x a series' median gap; longer ones are absences):
- history sampled on the evaluation grid (every timestamp a multiple of the rule interval, as generated corpora
  are): one millisecond less, so a sample is seen until the next one is due and a series that stops (raw or
  recorded) disappears at the next evaluation, exactly as live staleness has it;
- other history (real scrapes land between evaluations): the gap itself, so a sample stays visible until the next
  is due (scrape jitter included) and a series that stops disappears within one interval of where live staleness
  hides it;
- at most Prometheus' 5m, and at least the longest rule interval when rules evaluate at different intervals.
`--lookback-delta` overrides it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from allim.backtest.alerts import Alert, evaluate_alerts
from allim.backtest.csvfile import read_csv
from allim.backtest.errors import InputError
from allim.backtest.export import export_history
from allim.backtest.history import History
from allim.backtest.incidents import Incident, load_incidents
from allim.backtest.openmetrics import read_openmetrics
from allim.backtest.progress import Timings
from allim.backtest.recording import Recorded, materialise
from allim.backtest.rules import RuleSet, load_rule_set
from allim.backtest.scoring import Score, score
from allim.backtest.selectors import format_labels, without_name
from allim.backtest.tsdb import Binaries, Tsdb, create_blocks

DEFAULT_LOOKBACK_MS = 300_000


@dataclass
class Options:
    rules: list[str]
    history: Path | None = None
    prometheus_url: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    incidents: Path | None = None
    baseline: list[str] | None = None
    eval_interval_ms: int = 60_000
    tolerance_ms: int = 600_000
    grace_ms: int = 3_600_000
    lookback_ms: int | None = None
    prometheus_binary: str | None = None
    promtool_binary: str | None = None


@dataclass
class RuleSetResult:
    role: str  # "rules" or "baseline"
    rule_set: RuleSet
    alerts: list[Alert]
    recorded: Recorded
    scores: list[Score] = field(default_factory=list)


@dataclass
class Result:
    history: History
    first_ms: int
    last_ms: int
    lookback_ms: int
    incidents: list[Incident]
    results: list[RuleSetResult]
    timings: Timings


def run(options: Options, progress: Callable[[str], None], timings: Timings | None = None) -> Result:
    timings = timings or Timings()
    binaries = Binaries.find(options.prometheus_binary, options.promtool_binary)
    rule_sets = [("rules", load_rule_set(options.rules, options.eval_interval_ms, binaries.promtool))]
    if options.baseline:
        baseline = load_rule_set(options.baseline, options.eval_interval_ms, binaries.promtool, "--baseline")
        rule_sets.append(("baseline", baseline))
    incidents = load_incidents(options.incidents) if options.incidents else []
    history, first_ms, last_ms = _read_history(options, [rule_set for _, rule_set in rule_sets], progress)
    _check_history(options, history, [rule_set for _, rule_set in rule_sets], progress)
    _check_incidents(options, history, incidents)
    lookback_ms = options.lookback_ms or choose_lookback_ms(history, [rule_set for _, rule_set in rule_sets])
    progress(f"{len(history)} series, {history.sample_count()} samples; lookback delta {lookback_ms}ms")
    results = []
    with tempfile.TemporaryDirectory(prefix="allim-backtest-") as work:
        raw_dir = Path(work) / "raw"
        raw_dir.mkdir()
        with timings.measure("blocks"):
            progress("writing the history's blocks")
            history.write_openmetrics(raw_dir / "history.om")
            create_blocks(binaries.promtool, raw_dir / "history.om", raw_dir / "data")
            (raw_dir / "history.om").unlink()
        for role, rule_set in rule_sets:
            progress(f"{role}: {len(rule_set.recording)} recording and {len(rule_set.alerting)} alerting rules")
            result = _run_rule_set(
                Path(work) / role,
                raw_dir / "data",
                binaries,
                lookback_ms,
                role,
                rule_set,
                (first_ms, last_ms),
                progress,
                timings,
            )
            if incidents:
                result.scores = score(
                    result.alerts, incidents, first_ms, last_ms, options.tolerance_ms, options.grace_ms, rule_set.title
                )
            results.append(result)
    return Result(history, first_ms, last_ms, lookback_ms, incidents, results, timings)


def _run_rule_set(
    workdir: Path,
    raw_data: Path,
    binaries: Binaries,
    lookback_ms: int,
    role: str,
    rule_set: RuleSet,
    span: tuple[int, int],
    progress: Callable[[str], None],
    timings: Timings,
) -> RuleSetResult:
    """One rule set in a TSDB of its own (two rule sets may record the same names differently)."""
    shutil.copytree(raw_data, workdir / "data", copy_function=_link_or_copy)
    tsdb = Tsdb(workdir, binaries, lookback_ms)
    try:
        with timings.measure("recording"):
            tsdb.start()
            recorded = materialise(tsdb, rule_set, span[0], span[1], progress)
        with timings.measure("alerts"):
            alerts = evaluate_alerts(tsdb, rule_set, span[0], span[1], progress)
    finally:
        tsdb.close()
    progress(f"{role}: {len(alerts)} alert(s)")
    return RuleSetResult(role, rule_set, alerts, recorded)


def _link_or_copy(source: str, target: str) -> None:
    """Blocks are immutable (Prometheus replaces files, never edits them), so a hard link is a safe, instant copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _read_history(
    options: Options, rule_sets: list[RuleSet], progress: Callable[[str], None]
) -> tuple[History, int, int]:
    if options.history is not None:
        progress(f"reading {options.history}")
        reader = read_csv if options.history.suffix.lower() == ".csv" else read_openmetrics
        history = reader(options.history)
        if not len(history):
            raise InputError(f"--history {options.history}: no samples in it")
        return history, history.first_ms, history.last_ms
    assert options.prometheus_url is not None and options.since_ms is not None and options.until_ms is not None
    first_ms = options.until_ms - options.since_ms
    names = set().union(*(rule_set.raw_metric_names() for rule_set in rule_sets))
    history = export_history(options.prometheus_url, names, first_ms, options.until_ms, progress)
    if not len(history):
        raise InputError(
            f"--prometheus-url {options.prometheus_url}: no samples of {', '.join(sorted(names))} in the range"
        )
    return history, first_ms, options.until_ms


def _check_history(
    options: Options, history: History, rule_sets: list[RuleSet], progress: Callable[[str], None]
) -> None:
    """A history that holds nothing the rules read is a mistake (wrong file, wrong rules): say so."""
    wanted = set().union(*(rule_set.raw_metric_names() for rule_set in rule_sets))
    present = history.metric_names()
    where = f"--history {options.history}" if options.history else f"--prometheus-url {options.prometheus_url}"
    if wanted and not wanted & present:
        raise InputError(
            f"{where}: none of its series ({_some(present)}) is read by the rules, which read {_some(wanted)}"
        )
    if unread := present - wanted:
        progress(f"note: no rule reads {_some(unread)}")
    if missing := wanted - present:
        progress(f"note: the history has no series for {_some(missing)}")


def _check_incidents(options: Options, history: History, incidents: list[Incident]) -> None:
    series_labels = [without_name(labels) for labels in history.series]
    for incident in incidents:
        if incident.labels and not any(incident.matches(labels) for labels in series_labels):
            raise InputError(
                f"--incidents {options.incidents}: incident {incident.number}: no series in the history has"
                f" {format_labels(incident.labels)}"
            )


def choose_lookback_ms(history: History, rule_sets: list[RuleSet]) -> int:
    """The lookback delta that stands in for staleness markers (see the module docstring)."""
    gap = history.regular_gap_ms()
    if gap is None:
        return DEFAULT_LOOKBACK_MS
    intervals = {rule.interval_ms for rule_set in rule_sets for rule in rule_set.rules} or {gap}
    if len(intervals) == 1 and history.on_grid(next(iter(intervals))):
        lookback = max(gap, *intervals) - 1
    elif len(intervals) > 1:
        lookback = max(gap, *intervals)
    else:
        lookback = gap
    return max(1, min(DEFAULT_LOOKBACK_MS, lookback))


def _some(names: set[str], limit: int = 5) -> str:
    ordered = sorted(names)
    more = f" and {len(ordered) - limit} more" if len(ordered) > limit else ""
    return ", ".join(ordered[:limit]) + more
