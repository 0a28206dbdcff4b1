"""Sources for exercising the scheduler and snapshot without any upstream."""

from __future__ import annotations

import asyncio

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.sources.base import SourceConfig


def source_config(interval: float = 1.0, timeout: float = 0.5, max_age: float | None = None) -> SourceConfig:
    return SourceConfig(enabled=True, interval=interval, timeout=timeout, max_age=max_age or 3 * interval)


class StaticSource:
    """Returns one gauge whose value the test controls."""

    def __init__(self, name: str, value: float = 1.0, config: SourceConfig | None = None) -> None:
        self.name = name
        self.config = config or source_config()
        self.value = value
        self.calls = 0

    async def collect(self) -> list[Metric]:
        self.calls += 1
        return [GaugeMetricFamily(f"{self.name}_value", f"Value of {self.name}", self.value)]


class HangingSource(StaticSource):
    """Never answers: the scheduler's timeout must cut it off."""

    async def collect(self) -> list[Metric]:
        self.calls += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class RaisingSource(StaticSource):
    """Fails with a bug-like exception."""

    async def collect(self) -> list[Metric]:
        self.calls += 1
        raise RuntimeError("boom")
