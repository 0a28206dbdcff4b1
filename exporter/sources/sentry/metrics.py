"""Pure mapping from Sentry API answers to counts per project, and from counts to the sentry_* families.

    # TYPE sentry_project_errors gauge
    sentry_project_errors{project="backend"} 6.0
    sentry_project_unresolved_issues{level="error",project="backend"} 3.0
    sentry_webhook_issues_total{action="created",project="backend"} 1.0

Label values are project slugs and values from fixed sets only, so the series stay bounded.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.sources.upstream import SourceError, number

LEVELS = ("sample", "debug", "info", "warning", "error", "fatal", "unknown")
# Sentry slugs: lowercase letters, digits, '-' and '_'. Anything else never becomes a label value.
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
LISTINGS = ("projects", "issues_unresolved", "issues_new", "events")


@dataclass
class SentryReading:
    """What one poll found, per project slug; webhooks adjust it in place until the next poll replaces it."""

    projects: list[str] = field(default_factory=list)
    errors: dict[str, float] = field(default_factory=dict)
    new_issues: dict[str, float] = field(default_factory=dict)
    unresolved: dict[tuple[str, str], float] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)


def level_of(value: object) -> str:
    return value if isinstance(value, str) and value in LEVELS else "unknown"


def allowed(slug: object, allow: Collection[str]) -> TypeGuard[str]:
    """A usable label value that the project allow-list (empty: every project) admits."""
    return isinstance(slug, str) and bool(SLUG.match(slug)) and (not allow or slug in allow)


def slugs_from_projects(rows: Iterable[Any]) -> dict[str, str]:
    """Project id (as a string: stats_v2 sends ints, the projects endpoint strings) to slug."""
    slugs: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("slug"), str):
            raise SourceError("parse", "projects: each project needs an id and a slug")
        slugs[str(row["id"])] = row["slug"]
    return slugs


def errors_from_stats(body: Any, slugs: dict[str, str], allow: Collection[str]) -> dict[str, float]:
    """Accepted errors per slug from a stats_v2 answer grouped by project; unknown project ids are skipped."""
    groups = body.get("groups") if isinstance(body, dict) else None
    if not isinstance(groups, list):
        raise SourceError("parse", "stats_v2: no groups list in the answer")
    errors: dict[str, float] = {}
    for group in groups:
        try:
            project_id = str(group["by"]["project"])
            total = group["totals"]["sum(quantity)"]
        except (KeyError, TypeError):
            raise SourceError("parse", "stats_v2: a group lacks by.project or totals") from None
        slug = slugs.get(project_id)
        if slug is not None and allowed(slug, allow):
            errors[slug] = errors.get(slug, 0.0) + number(total, "stats_v2")
    return errors


def has_unknown_project(stats: object, slugs: dict[str, str]) -> bool:
    """Whether a stats_v2 answer names a project id the id -> slug map does not know (a project created since)."""
    groups = stats.get("groups") if isinstance(stats, dict) else None
    if not isinstance(groups, list):
        return False
    return any(
        isinstance(g, dict) and isinstance(g.get("by"), dict) and str(g["by"].get("project")) not in slugs
        for g in groups
    )


def _issue_slug(issue: Any) -> object:
    if not isinstance(issue, dict) or not isinstance(issue.get("project"), dict):
        raise SourceError("parse", "issues: an issue lacks its project")
    return issue["project"].get("slug")


def unresolved_from_issues(rows: Iterable[Any], allow: Collection[str]) -> dict[tuple[str, str], float]:
    """Unresolved issues per (slug, level) from an `is:unresolved` listing."""
    counts: dict[tuple[str, str], float] = {}
    for issue in rows:
        slug = _issue_slug(issue)
        if allowed(slug, allow) and issue.get("status", "unresolved") == "unresolved":
            key = (str(slug), level_of(issue.get("level")))
            counts[key] = counts.get(key, 0.0) + 1
    return counts


def new_issues_from_issues(rows: Iterable[Any], allow: Collection[str]) -> dict[str, float]:
    """Issues per slug from a `firstSeen:-<window>` listing, each issue id once (pages can overlap)."""
    seen: set[str] = set()
    counts: dict[str, float] = {}
    for issue in rows:
        slug = _issue_slug(issue)
        issue_id = str(issue.get("id"))
        if allowed(slug, allow) and issue_id not in seen:
            seen.add(issue_id)
            counts[str(slug)] = counts.get(str(slug), 0.0) + 1
    return counts


def slow_from_events(rows: Iterable[Any], slugs: dict[str, str], allow: Collection[str]) -> dict[str, float]:
    """Slow transactions per slug from a Discover table with `project` and `count()` columns.

    The `project` column is documented as the slug; an id is mapped through `slugs` in case it is not.
    """
    counts: dict[str, float] = {}
    for row in rows:
        if not isinstance(row, dict) or "project" not in row or "count()" not in row:
            raise SourceError("parse", "events: a row lacks the project or count() column")
        slug = slugs.get(str(row["project"]), row["project"])
        if allowed(slug, allow):
            counts[slug] = counts.get(slug, 0.0) + number(row["count()"], "events")
    return counts


def families_from_reading(
    reading: SentryReading,
    webhook_issues: dict[tuple[str, str], float],
    page_caps: dict[str, float],
) -> list[Metric]:
    """The sentry_* families: projects without data in a window show 0, not a missing series."""
    errors = GaugeMetricFamily(
        "sentry_project_errors",
        "Accepted error events since the start of Sentry's first stats bucket in the window (window 1h: 1-2 h)",
        labels=["project"],
    )
    new = GaugeMetricFamily("sentry_project_new_issues", "Issues first seen in the trailing window", labels=["project"])
    slow = GaugeMetricFamily(
        "sentry_project_slow_transactions",
        "Transactions slower than the threshold in the trailing window",
        labels=["project"],
    )
    projects = sorted(set(reading.projects) | set(reading.errors) | set(reading.new_issues) | set(reading.slow))
    for project in projects:
        errors.add_metric([project], reading.errors.get(project, 0.0))
        new.add_metric([project], reading.new_issues.get(project, 0.0))
        slow.add_metric([project], reading.slow.get(project, 0.0))
    unresolved = GaugeMetricFamily(
        "sentry_project_unresolved_issues", "Unresolved issues now, by level", labels=["project", "level"]
    )
    for (project, level), count in sorted(reading.unresolved.items()):
        unresolved.add_metric([project, level], count)
    webhooks = CounterMetricFamily(
        "sentry_webhook_issues", "Issue webhooks received, by action", labels=["project", "action"]
    )
    for (project, action), count in sorted(webhook_issues.items()):
        webhooks.add_metric([project, action], count)
    caps = CounterMetricFamily(
        "sentry_page_cap_reached",
        "Listings cut short by the page cap (counts from them are lower bounds)",
        labels=["listing"],
    )
    for listing in LISTINGS:
        caps.add_metric([listing], page_caps.get(listing, 0.0))
    return [errors, new, unresolved, slow, webhooks, caps]
