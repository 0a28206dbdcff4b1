"""The promtool cases' template renderer (allim/rules/cases/expect.py): the part of Prometheus' template language the
rules use, and a refusal for anything else. `promtool test rules` then proves each rendering equal to Prometheus'."""

from __future__ import annotations

import pytest

from allim.rules.cases.expect import render
from allim.rules.platform import AGE


def test_expect_renders_korean_duration_units_after_go_ones() -> None:
    assert render(AGE.en, {}, 960) == "16m 0s"
    assert render(AGE.ko, {}, 960) == "16분 0초"
    assert render(AGE.ko, {}, 2 * 86400 + 3 * 3600 + 4 * 60 + 5) == "2일 3시간 4분 5초"


def test_expect_renders_labels_and_a_replacement_with_braces_in_its_arguments() -> None:
    template = '{{ $labels.source }}: {{ $value | humanize | reReplaceAll "([0-9]+)k" "${1}천" }}'
    assert render(template, {"source": "sentry"}, 12000) == "sentry: 12천"


@pytest.mark.parametrize(
    "template",
    ["{{ $value }}", "{{ $value | title }}", '{{ $value | humanize | reReplace "a" "b" }}', "{{ .Labels.x }}"],
)
def test_expect_refuses_what_it_cannot_render(template: str) -> None:
    with pytest.raises(ValueError, match="cannot render"):
        render(template, {}, 1.0)
