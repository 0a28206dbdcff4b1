"""GLOSSARY.md as data, and every Korean string the project ships, found where it lives.

The glossary's tables are read as they are written (a Markdown table under a `## ` heading), so the page people read
and the test that enforces it cannot drift apart. Korean text is gathered per kind of file, each kind by the reader
that knows its shape: string literals of the Python packages, the page templates, the `*_ko` annotations of the
alerting rules, the prose of the READMEs (code blocks left out) and the comments of the files users copy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from testkit.processes import REPO
from tests.markdown import Document

GLOSSARY = REPO / "GLOSSARY.md"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CODE_SPAN = re.compile(r"`([^`]+)`")
# A number, then a space, then a unit: `2 초`, `10 %`, and English `2 s` / `24 h` / `5 min` inside Korean prose.
_SPACED_UNIT = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)? (?:%|초|분|시간|일|주|건|개|배|회|명|곳|s|h|min)(?![A-Za-z0-9])")


@dataclass(frozen=True)
class Retired:
    """A word Korean output never uses, except inside the phrases where it keeps another meaning."""

    word: str
    instead: str
    still_fine_in: tuple[str, ...]

    def found_in(self, text: str) -> bool:
        for phrase in self.still_fine_in:
            text = text.replace(phrase, " ")
        return self.word in text


@dataclass(frozen=True)
class Text:
    """One piece of shipped Korean and where it is (`path:line`, or `path: <rule> <key>`)."""

    where: str
    text: str


def _tables(path: Path = GLOSSARY) -> dict[str, list[list[str]]]:
    """The rows (cells stripped, header and separator left out) of the table under each `## ` heading."""
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            rows = tables.setdefault(line[3:].split("·")[0].strip(), [])
        elif line.startswith("|") and rows is not None:
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return {title: found[2:] for title, found in tables.items()}


def terms() -> dict[str, str]:
    """English term → Korean term."""
    return {row[0]: row[1] for row in _tables()["Terms"]}


def severities() -> dict[str, str]:
    """`critical` → `긴급`, and the other three."""
    return {row[0]: row[1] for row in _tables()["Severities"]}


def retired() -> list[Retired]:
    return [Retired(row[0], row[1], tuple(_CODE_SPAN.findall(row[3]))) for row in _tables()["Retired words"]]


def offences(texts: list[Text], words: list[Retired]) -> list[str]:
    """`where: word (use …): text` for every retired word in the texts."""
    return [
        f"{t.where}: {w.word} (use {w.instead}): {t.text.strip()[:160]}"
        for t in texts
        for w in words
        if w.found_in(t.text)
    ]


def spaced_units(texts: list[Text]) -> list[str]:
    """`where: 2 초` for every number written apart from its unit (code spans aside)."""
    return [
        f"{t.where}: {match.group(0)!r}: {t.text.strip()[:160]}"
        for t in texts
        for match in _SPACED_UNIT.finditer(_CODE_SPAN.sub(" ", t.text))
    ]


# -- where Korean lives ------------------------------------------------------------------------
def python_strings(path: Path) -> list[Text]:
    """Every string literal of a module that holds Hangul (f-string parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        Text(f"{_name(path)}:{node.lineno}", node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HANGUL.search(node.value)
    ]


def lines_with_hangul(path: Path) -> list[Text]:
    """Every line of a page template that holds Hangul."""
    return [Text(f"{_name(path)}:{n}", line) for n, line in _numbered(path) if HANGUL.search(line)]


def comments(path: Path) -> list[Text]:
    """The Korean `#` comments of a shell-style file (.env.example, docker-compose.yml)."""
    return [
        Text(f"{_name(path)}:{n}", line.split("#", 1)[1])
        for n, line in _numbered(path)
        if "#" in line and HANGUL.search(line.split("#", 1)[1])
    ]


def korean_annotations(path: Path) -> list[Text]:
    """The `<key>_ko` annotations of every alerting rule of a rule file."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return [
        Text(f"{_name(path)}: {rule['alert']} {key}", str(value))
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
        for key, value in rule.get("annotations", {}).items()
        if key.endswith("_ko")
    ]


def markdown_prose(path: Path) -> list[Text]:
    """The prose lines (tables included, code blocks not) that hold Hangul."""
    document = Document.read(path)
    return [
        Text(f"{_name(path)}:{n}", line)
        for n, line in zip(document.prose_lines, document.prose, strict=True)
        if HANGUL.search(line)
    ]


Reader = Callable[[Path], list[Text]]


def sources() -> Iterator[tuple[Path, Reader]]:
    """Every file that ships Korean (or may: every module of the packages), with the reader of its kind."""
    for package in ("allim", "bridge", "exporter"):
        for path in sorted((REPO / package).rglob("*.py")):
            yield path, python_strings
        for path in sorted((REPO / package).rglob("templates/*.html")):
            yield path, lines_with_hangul
    for path in sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml")):
        yield path, korean_annotations
    for name in ("README.ko.md", "README.md"):
        yield REPO / name, markdown_prose
    for name in (".env.example", "docker-compose.yml"):
        yield REPO / name, comments


def shipped_korean() -> list[Text]:
    return [text for path, read in sources() for text in read(path)]


def _numbered(path: Path) -> list[tuple[int, str]]:
    return list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))


def _name(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return path.name
