"""Collects error, issue and slow-transaction counts per project from the Sentry API, cheaply.

One poll makes a fixed number of calls whatever the number of projects (plus pagination): a stats_v2
call grouped by project, the unresolved-issue and new-issue listings, and one Discover count. Project
ids are mapped to slugs through the projects endpoint, cached for `PROJECTS_TTL`. Webhooks
(`webhook.py`) adjust the counts between polls through `record_issue_action`; the next poll replaces them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from prometheus_client.metrics_core import Metric

from allim.secret import Secret
from exporter.sources.sentry.api import (
    Pages,
    SentryApi,
    fetch_error_stats,
    fetch_issues,
    fetch_projects,
    fetch_slow_transactions,
)
from exporter.sources.sentry.config import SentryConfig, period_text
from exporter.sources.sentry.metrics import (
    LEVELS,
    SentryReading,
    allowed,
    errors_from_stats,
    families_from_reading,
    has_unknown_project,
    new_issues_from_issues,
    slow_from_events,
    slugs_from_projects,
    unresolved_from_issues,
)
from exporter.sources.upstream import RateLimitGate

log = logging.getLogger("exporter.sources.sentry")

PROJECTS_TTL = 600.0  # re-read the id -> slug map this often
PROJECTS_RETRY = 60.0  # ... or sooner when stats name an unknown id, but not more often than this
# Webhook actions that move the unresolved count, and by how much. Any other action is only counted.
UNRESOLVED_DELTA = {"created": 1, "unresolved": 1, "resolved": -1, "ignored": -1, "archived": -1}


class SentrySource:
    """Polls one organisation; also the in-memory state the Sentry webhook updates."""

    name = "sentry"

    def __init__(self, config: SentryConfig, client: httpx.AsyncClient, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.gate = RateLimitGate(clock)
        self.api = SentryApi(
            client,
            base_url=config.api_base,
            org=config.org or "",
            token=config.token or Secret(""),
            gate=self.gate,
            max_pages=config.max_pages,
            timeout=config.timeout,
        )
        self.reading = SentryReading()
        self.webhook_issues: dict[tuple[str, str], float] = {}
        self.page_caps: dict[str, float] = {}
        self._slugs: dict[str, str] = {}
        self._slugs_read_at: float | None = None

    async def collect(self) -> list[Metric]:
        config, allow = self.config, self.config.projects
        slugs = await self._project_slugs()
        ids = [pid for pid, slug in slugs.items() if slug in allow] if allow else []
        window = period_text(config.window)
        stats = await fetch_error_stats(self.api, window, "1h" if config.window >= 3600 else window, ids)
        if has_unknown_project(stats, slugs):
            slugs = await self._project_slugs(refresh=True)
        errors = errors_from_stats(stats, slugs, allow)
        unresolved = await fetch_issues(
            self.api, "is:unresolved", period_text(config.unresolved_period), ids, "issues_unresolved"
        )
        new = await fetch_issues(self.api, f"firstSeen:-{window}", window, ids, "issues_new")
        slow = await fetch_slow_transactions(self.api, config.dataset, config.slow_query, window, ids)
        for listing, pages in (("issues_unresolved", unresolved), ("issues_new", new), ("events", slow)):
            self._count_cap(listing, pages)
        self.reading = SentryReading(
            projects=sorted(slug for slug in slugs.values() if allowed(slug, allow)),
            errors=errors,
            new_issues=new_issues_from_issues(new.rows, allow),
            unresolved=unresolved_from_issues(unresolved.rows, allow),
            slow=slow_from_events(slow.rows, slugs, allow),
        )
        return self.build_families()

    def build_families(self) -> list[Metric]:
        """Fresh families from the current state (the last poll plus any webhooks since)."""
        return families_from_reading(self.reading, self.webhook_issues, self.page_caps)

    def record_issue_action(self, project: str, action: str, level: str | None) -> None:
        """Apply an issue webhook at once: count it, and move the new and unresolved counts it affects."""
        key = (project, action)
        self.webhook_issues[key] = self.webhook_issues.get(key, 0.0) + 1
        if project not in self.reading.projects:
            self.reading.projects = sorted({*self.reading.projects, project})
        if action == "created":
            self.reading.new_issues[project] = self.reading.new_issues.get(project, 0.0) + 1
        delta = UNRESOLVED_DELTA.get(action)
        if delta is None or level is None:
            return
        unresolved_key = (project, level if level in LEVELS else "unknown")
        count = self.reading.unresolved.get(unresolved_key, 0.0) + delta
        self.reading.unresolved[unresolved_key] = max(0.0, count)

    def _count_cap(self, listing: str, pages: Pages) -> None:
        if pages.capped:
            self.page_caps[listing] = self.page_caps.get(listing, 0.0) + 1

    async def _project_slugs(self, refresh: bool = False) -> dict[str, str]:
        now = self.clock()
        age = None if self._slugs_read_at is None else now - self._slugs_read_at
        if age is not None and age < (PROJECTS_RETRY if refresh else PROJECTS_TTL):
            return self._slugs
        projects = await fetch_projects(self.api)
        self._count_cap("projects", projects)
        self._slugs = slugs_from_projects(projects.rows)
        self._slugs_read_at = now
        missing = set(self.config.projects) - set(self._slugs.values())
        if missing:
            log.warning("sentry projects not found in the organisation", extra={"projects": ",".join(sorted(missing))})
        return self._slugs
