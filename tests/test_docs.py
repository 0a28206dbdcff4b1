"""README.md and README.ko.md say the same things: same sections, same commands, same names, links that work.

The Korean README is written for Korean operators, not machine-translated, so prose is not compared; what can be
compared is: the heading structure one to one, every code block byte for byte, every `code span` (env vars, keys,
metric names, paths, flags), every table row, and that each link lands somewhere.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy.support import README, ROOT, alert_rules
from tests.markdown import Document

ENGLISH = Document.read(README)
KOREAN = Document.read(ROOT / "README.ko.md")
BOTH = pytest.mark.parametrize("doc", [ENGLISH, KOREAN], ids=["README.md", "README.ko.md"])


def _first_line_after_title(doc: Document) -> str:
    lines = [line for line in doc.prose if line.strip()]
    assert lines[0].startswith("# "), f"{doc.path.name} starts with its title"
    return lines[1]


def test_each_readme_links_to_the_other_at_the_top() -> None:
    assert _first_line_after_title(ENGLISH) == "**English** · [한국어](README.ko.md)"
    assert _first_line_after_title(KOREAN) == "[English](README.md) · **한국어**"


def test_headings_correspond_one_to_one() -> None:
    english = [(h.level, h.line) for h in ENGLISH.headings]
    korean = [(h.level, h.line) for h in KOREAN.headings]
    for index, ((en_level, en_line), (ko_level, ko_line)) in enumerate(zip(english, korean, strict=False)):
        assert en_level == ko_level, (
            f"heading {index}: README.md line {en_line} is level {en_level}, README.ko.md line {ko_line} is {ko_level}"
        )
    assert len(english) == len(korean), f"README.md has {len(english)} headings, README.ko.md {len(korean)}"


def test_the_korean_readme_has_every_runbook_anchor() -> None:
    """A rule's runbook_url anchor is its alert's heading, so the Korean headings keep the alert names as they are
    (README.md's anchors are pinned in tests/deploy/test_rules.py)."""
    missing = sorted(
        {r["alert"] for r in alert_rules() if r["annotations"]["runbook_url"].split("#", 1)[1] not in KOREAN.anchors}
    )
    assert not missing, f"README.ko.md lacks `### <alert>` for {missing}"


def test_code_blocks_are_the_same_in_both() -> None:
    for index, (english, korean) in enumerate(zip(ENGLISH.code_blocks, KOREAN.code_blocks, strict=False)):
        assert korean == english, f"code block {index} differs (README.md's is the reference)"
    assert len(KOREAN.code_blocks) == len(ENGLISH.code_blocks)


def test_every_code_span_of_the_english_readme_is_in_the_korean() -> None:
    """Env vars, YAML keys, metric and label names, paths and flags: what an operator types or greps for."""
    missing = sorted(ENGLISH.inline_code() - KOREAN.inline_code())
    assert not missing, f"README.ko.md does not mention: {missing}"


def test_tables_have_the_same_rows() -> None:
    def rows(doc: Document) -> list[int]:
        counts: list[int] = []
        previous_was_row = False
        for line in doc.prose:
            is_row = line.startswith("|")
            if is_row and not previous_was_row:
                counts.append(0)
            if is_row:
                counts[-1] += 1
            previous_was_row = is_row
        return counts

    assert rows(KOREAN) == rows(ENGLISH), "row counts per table, README.md first"


def _env_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


@BOTH
def test_every_environment_variable_of_env_example_is_documented(doc: Document) -> None:
    text = doc.path.read_text(encoding="utf-8")
    missing = sorted(name for name in _env_names() if name not in text)
    assert not missing, f"{doc.path.name} does not mention {missing}"


@BOTH
def test_links_land(doc: Document) -> None:
    others = {"README.md": ENGLISH, "README.ko.md": KOREAN}
    broken = []
    for target in doc.links():
        if re.match(r"^[a-z]+:", target):  # http(s), mailto: not checked offline
            continue
        path, _, anchor = target.partition("#")
        if path in others:
            anchors = others[path].anchors
        elif path:
            if not (ROOT / path).exists():
                broken.append(target)
            continue
        else:
            anchors = doc.anchors
        if anchor and anchor not in anchors:
            broken.append(target)
    assert not broken, f"{doc.path.name}: links to nowhere: {broken}"
