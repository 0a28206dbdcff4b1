"""The corpus table of README.md and README.ko.md: each alert family, the old rules beside the shipped ones.

    make corpus-table          # = python -m tests.corpus.table --write: measure, rewrite both READMEs' tables, print
    python -m tests.corpus.table           # measure and print only

The table sits under the heading `Shipped rules on the corpus` (README.md) / `코퍼스에서 본 기본 규칙` (README.ko.md);
tests/corpus/test_goal.py fails when it differs from what the rules do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from testkit.processes import REPO
from tests.corpus import goal, scenario
from tests.corpus.goal import Figures

READMES = {"en": REPO / "README.md", "ko": REPO / "README.ko.md"}
HEADINGS = {"en": "### Shipped rules on the corpus", "ko": "### 코퍼스에서 본 기본 규칙"}
HEADERS = {
    "en": ["Family", "Series", "Incidents", "Caught", "Median time to first alert", "False alerts per week",
           "False alerts per series per 4 weeks"],
    "ko": ["알림 계열", "시리즈", "인시던트", "감지", "첫 알림까지(중앙값)", "주당 오탐", "시리즈당 4주 오탐"],
}  # fmt: skip
SERIES = {"HetrixTools": len(scenario.MONITORS), "Sentry": len(scenario.PROJECTS), "Ga4": 1,
          "Host": 2 + len(scenario.MOUNTS), "Allim": 1 + len(scenario.SOURCES)}  # fmt: skip


def duration(seconds: float | None, language: str) -> str:
    """`3 min`, `23.5 min`, `7 h 10 min` (`3분`, `23.5분`, `7시간 10분`); `-` when nothing was caught."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 30) / 2  # medians of one-minute detections fall on half minutes
    hour, minute = ("시간", "분") if language == "ko" else (" h", " min")
    if minutes < 60:
        return f"{minutes:g}{minute}"
    return f"{int(minutes // 60)}{hour} {round(minutes % 60)}{minute}"


def _pair(old: str, new: str) -> str:
    return f"{old} → {new}"


def rows(found: dict[str, dict[str, Figures]], language: str) -> list[list[str]]:
    table = []
    for family, by_role in found.items():
        old, new = by_role["baseline"], by_role["rules"]
        table.append(
            [
                family,
                str(SERIES[family]),
                str(new.incidents),
                _pair(str(old.caught), str(new.caught)),
                _pair(duration(old.median_detect_seconds, language), duration(new.median_detect_seconds, language)),
                _pair(f"{old.false_alerts_per_week:.2f}", f"{new.false_alerts_per_week:.2f}"),
                _pair(
                    f"{old.false_alerts_per_series_per_4_weeks:.2f}", f"{new.false_alerts_per_series_per_4_weeks:.2f}"
                ),
            ]
        )
    return table


def markdown(table: list[list[str]], language: str) -> str:
    lines = ["| " + " | ".join(HEADERS[language]) + " |", "|" + "---|" * len(HEADERS[language])]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines)


def _table_span(lines: list[str], language: str) -> tuple[int, int]:
    """The line range [first, after) of the first table under the language's heading."""
    heading = lines.index(HEADINGS[language])
    first = next(i for i in range(heading + 1, len(lines)) if lines[i].startswith("|"))
    after = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert not any(line.startswith("#") for line in lines[heading + 1 : first]), "the table is under the heading"
    return first, after


def published(language: str, path: Path | None = None) -> list[list[str]]:
    """The table's body rows as the README has them, cells stripped."""
    lines = (path or READMES[language]).read_text(encoding="utf-8").splitlines()
    first, after = _table_span(lines, language)
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[first + 2 : after]]


def write(table: str, language: str, path: Path | None = None) -> None:
    path = path or READMES[language]
    lines = path.read_text(encoding="utf-8").splitlines()
    first, after = _table_span(lines, language)
    path.write_text("\n".join([*lines[:first], table, *lines[after:]]) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.table", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="replace the tables in README.md and README.ko.md")
    args = parser.parse_args(argv)
    found = goal.figures(goal.measure())
    for language in READMES:
        table = markdown(rows(found, language), language)
        if args.write:
            write(table, language)
        print(f"{READMES[language].name}:\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
