"""What a promtool case expects of a firing alert: its labels and its annotations, rendered from the rule.

The rules' templates use a small part of Prometheus' template language: `$labels.<name>`, `$value` through
`humanize`, `humanizePercentage` or `humanizeDuration`, and one `with … query … else … end` block (the remaining error
budget). That part is rendered here from the labels and the value the case computes; anything else is refused, so a
new template construct cannot slip into a test unrendered.
"""

from __future__ import annotations

import re
from typing import Any

from allim.rules.cases.series import humanize, humanize_duration, humanize_percentage
from allim.rules.model import Rule

_WITH = re.compile(r"\{\{ with (?P<query>.*?) \}\}(?P<then>.*?)\{\{ else \}\}(?P<other>.*?)\{\{ end \}\}")
_TAG = re.compile(r"\{\{ (?P<body>[^{}]*?) \}\}")
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
        head, _, function = (part.strip() for part in body.partition("|"))
        if head == "$value" and function in _FUNCTIONS:
            return _FUNCTIONS[function](value)
        raise ValueError(f"cannot render {{{{ {body} }}}}")

    return _TAG.sub(tag, _WITH.sub(with_block, template))


def firing(rule: Rule, labels: dict[str, str], value: float, query: float | None = None) -> dict[str, Any]:
    """One `exp_alerts` entry: the series' labels with the rule's, and every annotation rendered."""
    body = rule.body
    annotations = {key: render(str(text), labels, value, query) for key, text in body["annotations"].items()}
    return {"exp_labels": {**body["labels"], **labels}, "exp_annotations": annotations}
