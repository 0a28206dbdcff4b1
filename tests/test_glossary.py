"""One vocabulary: every Korean string the project ships follows GLOSSARY.md.

Retired words never appear (except inside the phrases the glossary keeps for another meaning), numbers are written
with their unit, and the console and the exporter's status page name things with the glossary's terms. Each kind of
source is also shown to be read: a retired word planted into a copy of each real file is caught.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from bridge import messages
from bridge.console import words as console_words
from exporter import landing
from testkit.processes import REPO
from tests import glossary
from tests.glossary import Reader, Text

SOURCES = list(glossary.sources())
RETIRED = glossary.retired()
TERMS = glossary.terms()


def _source_id(source: tuple[Path, Reader]) -> str:
    return str(source[0].relative_to(REPO))


def test_glossary_has_the_issue_terms_and_retires_the_old_words() -> None:
    assert TERMS["alert"] == "알림" and TERMS["notification"] == "알림 메시지" and TERMS["receiver"] == "리시버"
    assert TERMS["resolved"] == "해소됨" and TERMS["dead (delivery)"] == "최종 실패" and TERMS["poll"] == "폴링"
    assert glossary.severities() == {"critical": "긴급", "high": "높음", "warning": "주의", "info": "정보"}
    assert {w.word for w in RETIRED} == {"경보", "수신자", "해결", "전달", "수집", "심각"}


def test_glossary_keeps_a_retired_word_only_in_its_listed_phrases() -> None:
    by_word = {w.word: w for w in RETIRED}
    assert not by_word["해결"].found_in("Sentry의 미해결 이슈 수") and by_word["해결"].found_in("[해결] 디스크 부족")
    assert not by_word["심각"].found_in("심각도: 긴급") and by_word["심각"].found_in("심각도: 심각")
    assert by_word["수집"].found_in("다음 수집") and by_word["경보"].found_in("경보")


@pytest.mark.parametrize("source", SOURCES, ids=_source_id)
def test_glossary_no_retired_word_in(source: tuple[Path, Reader]) -> None:
    path, read = source
    found = glossary.offences(read(path), RETIRED)
    assert not found, "retired words (GLOSSARY.md):\n" + "\n".join(found)


@pytest.mark.parametrize("source", SOURCES, ids=_source_id)
def test_glossary_units_follow_their_number_in(source: tuple[Path, Reader]) -> None:
    path, read = source
    found = glossary.spaced_units(read(path))
    assert not found, "write `2초`, `10%` (GLOSSARY.md):\n" + "\n".join(found)


def test_glossary_reads_every_file_that_ships_korean() -> None:
    """A new file holding Korean is checked too: every shipped file with Hangul is one of the sources read."""
    read = {path for path, _ in SOURCES}
    unread = sorted(
        str(path.relative_to(REPO))
        for path in _shipped_files()
        if path not in read and path != glossary.GLOSSARY and glossary.HANGUL.search(_text(path))
    )
    assert not unread, f"Korean in files tests/glossary.py does not read: {unread}"


# Not shipped output: the tests (the promtool tests under deploy/ copy the annotations they expect), and generated
# copies (deploy/kubernetes/base/generated/ is the rules again, kept equal by tests/deploy/test_kube.py).
NOT_SHIPPED = {"tests", "generated", "__pycache__", "bench", "testkit"}


def _shipped_files() -> list[Path]:
    found = []
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in NOT_SHIPPED and not d.endswith(".egg-info")]
        found.extend(Path(top) / name for name in files)
    return found


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""


# -- the words of the console and the status page ----------------------------------------------
# (table, key, glossary term): the Korean of `key` holds the glossary's word for `term`.
NAMED = [
    (console_words.KO, "console", "console"),
    (console_words.KO, "receiver", "receiver"),
    (console_words.KO, "receivers", "receiver"),
    (console_words.KO, "notification", "notification"),
    (console_words.KO, "notifications", "notification"),
    (console_words.KO, "alerts", "alert"),
    (console_words.KO, "deliveries", "delivery"),
    (console_words.KO, "dead", "dead (delivery)"),
    (console_words.KO, "retry", "retry"),
    (console_words.KO, "retry_all_dead", "retry"),
    (console_words.KO, "firing", "firing"),
    (console_words.KO, "resolved", "resolved"),
    (console_words.KO, "annotations", "annotation"),
    (console_words.KO, "labels", "label"),
    (landing.KO, "waiting", "poll"),
    (landing.KO, "duration", "poll"),
    (landing.KO, "next_poll", "poll"),
    (landing.KO, "webhooks", "webhook"),
]


@pytest.mark.parametrize(("table", "key", "term"), NAMED, ids=[f"{k}-{t}" for _, k, t in NAMED])
def test_glossary_term_used_for(table: dict[str, str], key: str, term: str) -> None:
    assert TERMS[term] in table[key], f"{key}: {table[key]!r} does not say {TERMS[term]!r} ({term})"


@pytest.mark.parametrize("severity", ["critical", "high", "warning", "info"])
def test_glossary_severity_names_in_notifications(severity: str) -> None:
    assert messages.KO[severity] == glossary.severities()[severity]


# -- each kind of source is read: a planted retired word is caught -----------------------------
def _plant_python(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + '\nPLANTED = "경보 발생"\n', encoding="utf-8")


def _plant_template(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n<p>경보</p>\n", encoding="utf-8")


def _plant_rule(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule = next(r for g in data["groups"] for r in g["rules"] if "alert" in r)
    rule["annotations"]["description_ko"] = rule["annotations"].get("description_ko", "") + " 경보"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _plant_markdown(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + "\n```\n수신자 (in a code block: not prose)\n```\n\n경보가 오면 확인합니다.\n", encoding="utf-8"
    )


def _plant_comment(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# 경보 언어\n", encoding="utf-8")


PLANTERS = {
    glossary.python_strings: _plant_python,
    glossary.lines_with_hangul: _plant_template,
    glossary.korean_annotations: _plant_rule,
    glossary.markdown_prose: _plant_markdown,
    glossary.comments: _plant_comment,
}
# One real file of each kind the brief names, and every kind of reader.
PLANTED = [
    "bridge/messages.py",
    "bridge/console/words.py",
    "bridge/cli.py",
    "exporter/landing.py",
    "allim/web/humanize.py",
    "bridge/console/templates/overview.html",
    "exporter/templates/landing.html",
    "deploy/prometheus/rules/hetrixtools.yml",
    "README.ko.md",
    ".env.example",
]


@pytest.mark.parametrize("name", PLANTED)
def test_glossary_catches_a_word_planted_in(name: str, tmp_path: Path) -> None:
    read = dict(SOURCES)[REPO / name]
    copy = tmp_path / Path(name).name
    shutil.copy(REPO / name, copy)
    before = glossary.offences(read(copy), RETIRED)
    PLANTERS[read](copy)
    new = [found for found in glossary.offences(read(copy), RETIRED) if found not in before]
    assert len(new) == 1 and "경보" in new[0], new


def test_glossary_planting_covers_every_kind_of_source() -> None:
    kinds = {dict(SOURCES)[REPO / name] for name in PLANTED}
    assert kinds == set(PLANTERS)


def test_glossary_spots_units_apart_from_their_number() -> None:
    found = glossary.spaced_units(
        [Text("x", "2 초 뒤, 10 % 넘게, 15 s 간격, 약 14 %입니다"), Text("y", "2초, 10%, `2 s`, 15s, 2.4 ms, 1 MiB")]
    )
    assert [f.split(": ")[1] for f in found] == ["'2 초'", "'10 %'", "'15 s'", "'14 %'"]
