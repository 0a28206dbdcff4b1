"""The measured goal in `make test`: the corpus through `allim-backtest`, the shipped rules held to issue 17's
targets and to the table both READMEs publish."""

from __future__ import annotations

from typing import Any

import pytest

from tests.corpus import generate, goal, scenario, table

pytestmark = pytest.mark.slow

# While deploy/prometheus/rules still holds the same alerting rules as the snapshot (the state before issue 17's
# rules land), the old rules' false alerts (Sentry's fixed counts against an hour-aligned window, the week-over-week
# GA4 rules) break the false-alert target: expected, and strict, so the test must pass once the rules differ.
STILL_THE_OLD_RULES = goal.same_rules(goal.RULES, generate.OLD_RULES)


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return goal.measure()


@pytest.fixture(scope="module")
def found(measured: dict[str, Any]) -> dict[str, dict[str, goal.Figures]]:
    return goal.figures(measured)


def test_backtest_scores_every_family_for_both_rule_sets(found: dict[str, dict[str, goal.Figures]]) -> None:
    labelled = {family: sum(1 for e in scenario.incidents() if e.family == family) for family in scenario.FAMILIES}
    for family, by_role in found.items():
        assert set(by_role) == set(goal.ROLES), family
        assert by_role["rules"].incidents == by_role["baseline"].incidents == labelled[family]


def test_every_labelled_incident_is_caught_by_its_family(found: dict[str, dict[str, goal.Figures]]) -> None:
    missed = {family: f"{r['rules'].caught}/{r['rules'].incidents}" for family, r in found.items()}
    assert all(r["rules"].caught == r["rules"].incidents for r in found.values()), f"caught: {missed}"


@pytest.mark.xfail(STILL_THE_OLD_RULES, reason="the shipped rules are still the old ones", strict=True)
def test_false_alerts_stay_at_one_per_series_per_four_weeks(found: dict[str, dict[str, goal.Figures]]) -> None:
    over = {
        family: round(r["rules"].false_alerts_per_series_per_4_weeks, 2)
        for family, r in found.items()
        if r["rules"].false_alerts_per_series_per_4_weeks > 1
    }
    assert not over, f"false alerts per series per 4 weeks: {over}"


def test_outages_page_within_five_minutes_and_flapping_pages(measured: dict[str, Any]) -> None:
    delays = goal.page_delays(measured)
    kinds = {event.name: event.kind for event in scenario.incidents()}
    assert set(delays) == {name for name, kind in kinds.items() if kind in ("outage", "flapping")}
    late = {
        name: delay
        for name, delay in delays.items()
        if delay is None or (kinds[name] == "outage" and delay > goal.PAGE_WITHIN_SECONDS)
    }
    assert not late, f"seconds from start to the first page (None: no page): {late}"


def test_shipped_rules_are_no_worse_than_the_old_ones(found: dict[str, dict[str, goal.Figures]]) -> None:
    worse = {
        family: (r["baseline"], r["rules"])
        for family, r in found.items()
        if r["rules"].caught < r["baseline"].caught or r["rules"].false_alerts > r["baseline"].false_alerts
    }
    assert not worse, f"old, shipped: {worse}"


@pytest.mark.parametrize("language", sorted(table.READMES))
def test_readme_table_is_what_the_rules_do(found: dict[str, dict[str, goal.Figures]], language: str) -> None:
    assert table.published(language) == table.rows(found, language), (
        f"{table.READMES[language].name} is stale: run `make corpus-table`"
    )
