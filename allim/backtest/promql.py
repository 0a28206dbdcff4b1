"""Which metrics a PromQL expression reads: a small tokenizer, enough to name the series to export and the
recording rules a rule depends on. Prometheus itself (promtool check rules) has judged the expression valid."""

from __future__ import annotations

import re

_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:\d+(?:ms|[smhdwy]))+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "atan2",
    "inf",
    "nan",
}
_AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
}
# Keywords followed by a parenthesised list of label names (not expressions).
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_CLOSING = {"(": ")", "[": "]", "{": "}"}


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects: `sum by (job) (rate(http_requests_total[5m] offset 1w))` reads
    `http_requests_total`.

    Names in `by (...)` lists, label matchers, strings, durations, function and aggregation names are not metrics;
    `{__name__="x"}` is. A `__name__` regex matcher cannot be resolved here and is left out.
    """
    names: set[str] = set()
    pos = 0
    while pos < len(expr):
        char = expr[pos]
        if char in " \t\r\n":
            pos += 1
        elif char == "#":
            end = expr.find("\n", pos)
            pos = len(expr) if end < 0 else end
        elif char in "\"'`":
            pos = _skip_string(expr, pos)
        elif char == "{":
            pos = _read_matchers(expr, pos, names)
        elif char == "[":
            pos = _skip_balanced(expr, pos)
        elif char.isdigit() or (char == "." and expr[pos + 1 : pos + 2].isdigit()):
            match = _NUMBER.match(expr, pos)
            pos = match.end() if match else pos + 1
        elif match := _IDENT.match(expr, pos):
            pos = _read_identifier(expr, match.group(), match.end(), names)
        else:
            pos += 1
    return names


def _read_identifier(expr: str, word: str, pos: int, names: set[str]) -> int:
    following = _next_char(expr, pos)
    lowered = word.lower()
    if lowered in _LABEL_LISTS:
        if following == "(":
            return _skip_balanced(expr, _skip_space(expr, pos))
        return pos
    if lowered in _KEYWORDS or following == "(":
        return pos  # a keyword, or a function or aggregation call
    if word in _AGGREGATIONS and _next_word(expr, pos) in ("by", "without"):
        return pos  # `sum by (job) (...)`
    names.add(word)
    return pos


def _read_matchers(expr: str, pos: int, names: set[str]) -> int:
    """`{job="a", __name__="up"}`: only a `__name__` equality names a metric."""
    end = _skip_balanced(expr, pos)
    for match in re.finditer(
        r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`)", expr[pos:end]
    ):
        if match.group(1) == "__name__" and match.group(2) == "=":
            names.add(match.group(3)[1:-1])
    return end


def _skip_balanced(expr: str, pos: int) -> int:
    """From an opening bracket to just past its partner, skipping strings (a `}` inside quotes does not count)."""
    closing, depth, opening = _CLOSING[expr[pos]], 0, expr[pos]
    while pos < len(expr):
        char = expr[pos]
        if char in "\"'`":
            pos = _skip_string(expr, pos)
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return pos


def _skip_string(expr: str, pos: int) -> int:
    quote, pos = expr[pos], pos + 1
    while pos < len(expr):
        if expr[pos] == "\\" and quote != "`":
            pos += 2
            continue
        if expr[pos] == quote:
            return pos + 1
        pos += 1
    return pos


def _skip_space(expr: str, pos: int) -> int:
    while pos < len(expr) and expr[pos] in " \t\r\n":
        pos += 1
    return pos


def _next_char(expr: str, pos: int) -> str:
    pos = _skip_space(expr, pos)
    return expr[pos] if pos < len(expr) else ""


def _next_word(expr: str, pos: int) -> str:
    match = _IDENT.match(expr, _skip_space(expr, pos))
    return match.group().lower() if match else ""
