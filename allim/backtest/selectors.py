"""One series as a sorted tuple of labels (`__name__` included), read from and written as `name{a="b"}`."""

from __future__ import annotations

import re

LabelSet = tuple[tuple[str, str], ...]
"""A series' labels, sorted by name; `__name__` holds the metric name."""

NAME = "__name__"
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


class SelectorError(ValueError):
    """Text that is not `name{label="value", ...}`; the message says where it stops making sense."""


def metric_name(labels: LabelSet) -> str:
    return dict(labels).get(NAME, "")


def without_name(labels: LabelSet) -> dict[str, str]:
    return {name: value for name, value in labels if name != NAME}


def label_set(labels: dict[str, str]) -> LabelSet:
    return tuple(sorted(labels.items()))


def parse_series(text: str) -> LabelSet:
    """`up{job="a", instance='b'}` -> sorted labels. Only `=` matchers: this names one series, it selects nothing."""
    labels, end = scan_series(text, 0)
    if text[end:].strip():
        raise SelectorError(f"unexpected {text[end:].strip()[:20]!r} after the series")
    return labels


def scan_series(text: str, pos: int) -> tuple[LabelSet, int]:
    """Read a series at `pos` (leading spaces allowed); return it and the position after it."""
    while pos < len(text) and text[pos] == " ":
        pos += 1
    labels: dict[str, str] = {}
    match = _METRIC.match(text, pos)
    if match:
        labels[NAME] = match.group()
        pos = match.end()
    if pos < len(text) and text[pos] == "{":
        pos = _scan_labels(text, pos + 1, labels)
    if NAME not in labels:
        raise SelectorError(f"a series needs a metric name, found {text[pos : pos + 20]!r}")
    return tuple(sorted(labels.items())), pos


def _scan_labels(text: str, pos: int, labels: dict[str, str]) -> int:
    while True:
        pos = _skip_spaces(text, pos)
        if pos < len(text) and text[pos] == "}":
            return pos + 1
        match = _LABEL.match(text, pos)
        if not match:
            raise SelectorError(f"expected a label name at {text[pos : pos + 20]!r}")
        name = match.group()
        pos = _skip_spaces(text, match.end())
        if not text.startswith("=", pos) or text.startswith("=~", pos) or text.startswith("==", pos):
            raise SelectorError(f"label {name}: only `=` names a series")
        value, pos = _scan_string(text, _skip_spaces(text, pos + 1))
        if name in labels:
            raise SelectorError(f"label {name} given twice")
        labels[name] = value
        pos = _skip_spaces(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif not (pos < len(text) and text[pos] == "}"):
            raise SelectorError(f"expected `,` or `}}` after label {name}")


def _scan_string(text: str, pos: int) -> tuple[str, int]:
    if pos >= len(text) or text[pos] not in "\"'":
        raise SelectorError(f"expected a quoted label value at {text[pos : pos + 20]!r}")
    quote, pos = text[pos], pos + 1
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\" and pos + 1 < len(text):
            out.append(_ESCAPES.get(text[pos + 1], "\\" + text[pos + 1]))
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise SelectorError("unterminated label value")


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def format_series(labels: LabelSet) -> str:
    """Sorted labels -> `name{a="b"}` (the OpenMetrics and PromQL spelling, escapes included)."""
    inner = ",".join(f'{name}="{escape(value)}"' for name, value in labels if name != NAME)
    name = metric_name(labels)
    return f"{name}{{{inner}}}" if inner else name


def format_labels(labels: dict[str, str]) -> str:
    """{"a": "b"} -> `a="b", c="d"` (for tables)."""
    return ", ".join(f'{name}="{escape(value)}"' for name, value in sorted(labels.items()))


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
