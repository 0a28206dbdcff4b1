"""Generate the labelled corpus: eight weeks of the exporter's series, one sample a minute, and its incidents.

    python -m tests.corpus.generate --out DIR [--format openmetrics|csv] [--seed N]
    python -m tests.corpus.generate --write-incidents     # rewrite tests/corpus/incidents.yml from scenario.py
    python -m tests.corpus.generate --check-incidents     # exit 1 when incidents.yml is stale

The same seed gives the same bytes. What the series imitate is written beside each shape: traffic.py, hetrixtools.py,
sentry.py, ga4.py, host.py, allim.py; what happened when is scenario.py.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from tests.corpus import allim, clock, ga4, hetrixtools, history, host, scenario, sentry, traffic
from tests.corpus.history import Series

SEED = 17  # issue 17
HERE = Path(__file__).resolve().parent
INCIDENTS = HERE / "incidents.yml"
OLD_RULES = HERE / "old-rules"


def build(seed: int = SEED) -> list[Series]:
    """Every series of the corpus, exporter gaps applied."""
    activity = traffic.site_activity(seed)
    every = [
        *hetrixtools.series(activity, seed),
        *sentry.series(activity, seed),
        *ga4.series(activity, seed),
        *host.series(activity, seed),
        *allim.series(seed),
    ]
    allim.apply_exporter_gaps(every)
    return every


def generate(directory: Path, seed: int = SEED, form: str = "openmetrics") -> Path:
    """Write the history into `directory`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    return history.write(build(seed), directory, form)


def _iso(minute: int) -> str:
    return clock.moment(minute).isoformat()


def incidents_yaml() -> str:
    """incidents.yml: each labelled incident, with why it happened as a comment above it."""
    lines = [
        "# The labelled incidents of the corpus (allim-backtest --incidents). Generated from tests/corpus/scenario.py",
        "# by `python -m tests.corpus.generate --write-incidents`: edit the scenario, not this file.",
        "# Times are Korean (KST). Everything else in the corpus (blips, bursts, the Seollal holiday, Monday surges)",
        "# is deliberately not here: an alert on it counts as false.",
    ]
    for event in scenario.incidents():
        lines += ["", *textwrap.wrap(f"{event.name}: {event.why}", 116, initial_indent="# ", subsequent_indent="# ")]
        lines += [f"- family: {event.family}", f'  start: "{_iso(event.first)}"', f'  end: "{_iso(event.last)}"']
        lines += ["  labels:"] + [f'    {key}: "{value}"' for key, value in event.labels.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="directory for the history file")
    parser.add_argument("--format", choices=sorted(history.FORMATS), default="openmetrics")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--write-incidents", action="store_true", help=f"rewrite {INCIDENTS.name}")
    parser.add_argument("--check-incidents", action="store_true", help=f"fail when {INCIDENTS.name} is stale")
    args = parser.parse_args(argv)
    if args.check_incidents:
        if INCIDENTS.read_text(encoding="utf-8") != incidents_yaml():
            print(f"{INCIDENTS} is stale: run python -m tests.corpus.generate --write-incidents", file=sys.stderr)
            return 1
        return 0
    if args.write_incidents:
        INCIDENTS.write_text(incidents_yaml(), encoding="utf-8")
        return 0
    if args.out is None:
        parser.error("--out is required (or --write-incidents / --check-incidents)")
    path = generate(args.out, args.seed, args.format)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
