"""Collects uptime monitor status, uptime and response times from the HetrixTools API v3.

One poll reads every page of `GET /v3/uptime-monitors` (api.py) and maps it (metrics.py). Webhooks (webhook.py)
override `up` for a monitor through `apply_webhook`, until a poll that started after the webhook replaces it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable

import httpx
from prometheus_client.metrics_core import Metric

from exporter.sources.hetrixtools.api import HetrixToolsApi
from exporter.sources.hetrixtools.config import HetrixToolsConfig
from exporter.sources.hetrixtools.metrics import Monitor, Override, families_from_monitors
from exporter.sources.upstream import RateLimitGate

log = logging.getLogger("exporter.sources.hetrixtools")


class HetrixToolsSource:
    """Polls every page of uptime monitors; keeps them, plus webhook overrides, to build families from."""

    name = "hetrixtools"

    def __init__(
        self, config: HetrixToolsConfig, client: httpx.AsyncClient, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.clock = clock
        self.gate = RateLimitGate(clock)
        self.api = HetrixToolsApi(config, client, self.gate)
        self.monitors: dict[str, Monitor] = {}
        self.overrides: dict[str, Override] = {}
        # Logical time: a poll clears only the overrides applied before it started.
        self._marks = itertools.count()

    async def collect(self) -> list[Metric]:
        started = next(self._marks)
        monitors = await self.api.fetch_uptime_monitors()
        self.monitors = {m.id: m for m in monitors}
        self.overrides = {k: o for k, o in self.overrides.items() if o.mark > started}
        # Built after the last await, so the scheduler publishes exactly the state at this moment.
        return self.build_families()

    def build_families(self) -> list[Metric]:
        """Families from the last poll and the webhook overrides still in force."""
        return families_from_monitors(self.monitors.values(), self.overrides)

    def apply_webhook(self, monitor_id: str, up: bool, timestamp: float, labels: list[str]) -> bool:
        """Hold `up` for the monitor until a later poll; False when an already applied webhook is newer."""
        current = self.overrides.get(monitor_id)
        if current is not None and current.timestamp > timestamp:
            return False
        known = self.monitors.get(monitor_id)
        if known is not None:
            labels = known.labels
        elif current is None:
            if self.config.max_unknown_monitors == 0:
                return False
            self._evict_unknown()
        self.overrides[monitor_id] = Override(up, next(self._marks), timestamp, labels)
        return True

    def _evict_unknown(self) -> None:
        """Keep at most max_unknown_monitors overrides for monitors no poll has listed: the oldest goes first."""
        unknown = [k for k in self.overrides if k not in self.monitors]
        while unknown and len(unknown) >= self.config.max_unknown_monitors:
            oldest = min(unknown, key=lambda k: self.overrides[k].mark)
            del self.overrides[oldest]
            unknown.remove(oldest)
            log.warning("too many webhook-only monitors, dropped the oldest", extra={"source": self.name})
