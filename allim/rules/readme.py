"""The parts of README.md and README.ko.md that state thresholds: the alert table of the alert reference.

`make rules` rewrites what lies between the two marker comments in each README, so the table says what the
generated rules do; the prose around it names config keys, not numbers.
"""

from __future__ import annotations

from pathlib import Path

from allim.rules.model import Rule, RuleFile, Text

READMES = {"en": Path("README.md"), "ko": Path("README.ko.md")}
BEGIN = "<!-- make rules: alert table (generated from deploy/prometheus/objectives.yml; do not edit) -->"
END = "<!-- end of make rules: alert table -->"

_HEAD = {
    "en": "| alert | severity | condition | for | history it needs |",
    "ko": "| 알림 | 심각도 | 조건 | for | 필요한 기록 |",
}
_SEVERITY_KO = {"critical": "긴급", "high": "높음", "warning": "주의", "info": "정보"}


def _text(text: Text, language: str) -> str:
    return text.en if language == "en" else text.ko


def _severity(rule: Rule, language: str) -> str:
    severity = str(rule.body["labels"]["severity"])
    return severity if language == "en" else f"{_SEVERITY_KO[severity]} ({severity})"


def _row(rules: list[Rule], language: str) -> str:
    name = rules[0].name
    described = [rule for rule in rules if rule.condition is not None]
    severities = " / ".join(dict.fromkeys(_severity(rule, language) for rule in described))
    if len({str(rule.body["labels"]["severity"]) for rule in described}) > 1:
        conditions = "; ".join(
            f"{_severity(rule, language)}: {_text(rule.condition, language)}" for rule in described if rule.condition
        )
    else:
        conditions = "; ".join(_text(rule.condition, language) for rule in described if rule.condition)
    holds = " / ".join(dict.fromkeys(str(rule.body.get("for", "–")) for rule in described))
    histories = list(dict.fromkeys(_text(rule.history, language) for rule in described))
    if len(histories) > 1:
        history = "; ".join(f"{_severity(rule, language)}: {_text(rule.history, language)}" for rule in described)
    else:
        history = histories[0]
    return f"| {name} | {severities} | {conditions} | {holds} | {history} |"


def alert_table(rule_files: list[RuleFile], language: str) -> str:
    by_name: dict[str, list[Rule]] = {}
    for rule_file in rule_files:
        for rule in rule_file.alerts:
            by_name.setdefault(rule.name, []).append(rule)
    lines = [_HEAD[language], "|---|---|---|---|---|", *(_row(rules, language) for rules in by_name.values())]
    return "\n".join(lines) + "\n"


class ReadmeError(Exception):
    """A README lacks the markers the generated table goes between."""


def with_table(text: str, table: str, where: Path) -> str:
    """`text` with the part between the markers replaced by `table`."""
    head, begin, rest = text.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END + "\n")
    if not begin or not end:
        raise ReadmeError(f"{where}: no `{BEGIN}` ... `{END}` lines to put the alert table between")
    return head + begin + table + end + tail


def readme_texts(root: Path, rule_files: list[RuleFile]) -> dict[Path, str]:
    out = {}
    for language, path in READMES.items():
        current = (root / path).read_text(encoding="utf-8")
        out[path] = with_table(current, alert_table(rule_files, language), path)
    return out
