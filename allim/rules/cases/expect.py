"""What a promtool case expects of a firing alert: its labels and its annotations, rendered from the rule.

The rules' templates use a small part of Prometheus' template language: `$labels.<name>`, `$value` through
`humanize`, `humanizePercentage` or `humanizeDuration` (then, optionally, `reReplaceAll "pattern" "replacement"`
steps), and one `with … query … else … end` block (the remaining error budget). That part is rendered here from the
labels and the value the case computes; anything else is refused, so a new template construct cannot slip into a test
unrendered.
"""

from __future__ import annotations

import re
from typing import Any

from allim.rules.cases.series import humanize, humanize_duration, humanize_percentage
from allim.rules.model import Rule

_WITH = re.compile(r"\{\{ with (?P<query>.*?) \}\}(?P<then>.*?)\{\{ else \}\}(?P<other>.*?)\{\{ end \}\}")
_TAG = re.compile(r'\{\{ (?P<body>(?:[^{}"]|"[^"]*")*?) \}\}')  # braces inside a quoted argument are text
_REPLACE = re.compile(r'reReplaceAll "(?P<pattern>[^"]*)" "(?P<replacement>[^"]*)"')
_FUNCTIONS = {"humanize": humanize, "humanizePercentage": humanize_percentage, "humanizeDuration": humanize_duration}


def render(template: str, labels: dict[str, str], value: float, query: float | None = None) -> str:
    def with_block(match: re.Match[str]) -> str:
        if query is None:
            return match.group("other")
        then = match.group("then")
        if then != "{{ . | first | value | humanizePercentage }}":
            raise ValueError(f"cannot render {then!r}")
        return humanize_percentage(query)

    def tag(match: re.Match[str]) -> str:
        body = match.group("body")
        if body.startswith("$labels."):
            return labels[body.removeprefix("$labels.")]
        head, *pipeline = (part.strip() for part in body.split("|"))
        if head != "$value" or not pipeline or pipeline[0] not in _FUNCTIONS:
            raise ValueError(f"cannot render {{{{ {body} }}}}")
        function, *steps = pipeline
        text = _FUNCTIONS[function](value)
        for step in steps:
            replace = _REPLACE.fullmatch(step)
            if replace is None:
                raise ValueError(f"cannot render {step!r} in {{{{ {body} }}}}")
            # Go's `${1}` is Python's `\g<1>`.
            replacement = re.sub(r"\$\{(\d+)\}", r"\\g<\1>", replace.group("replacement"))
            text = re.sub(replace.group("pattern"), replacement, text)
        return text

    return _TAG.sub(tag, _WITH.sub(with_block, template))


def firing(rule: Rule, labels: dict[str, str], value: float, query: float | None = None) -> dict[str, Any]:
    """One `exp_alerts` entry: the series' labels with the rule's, and every annotation rendered."""
    body = rule.body
    annotations = {key: render(str(text), labels, value, query) for key, text in body["annotations"].items()}
    return {"exp_labels": {**body["labels"], **labels}, "exp_annotations": annotations}
