"""The self-metrics registry both services start from: process figures and `allim_build_info`."""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Gauge, ProcessCollector
from prometheus_client.registry import Collector

from allim import __version__


def new_registry(*collectors: Collector) -> CollectorRegistry:
    """A private registry (never the global one) with `collectors` first, then `process_*` and `allim_build_info`.

    The order is the order of the exposition: the exporter puts its source health before the process figures.
    """
    registry = CollectorRegistry(auto_describe=True)
    for collector in collectors:
        registry.register(collector)
    ProcessCollector(registry=registry)
    build = Gauge("allim_build_info", "allim version; always 1", ["version", "python_version"], registry=registry)
    build.labels(__version__, platform.python_version()).set(1)
    return registry
