from __future__ import annotations

import platform
from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from allim import __version__
from allim.metrics import new_registry


class First(Collector):
    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("first_value", "Comes first", 1.0)


def test_metrics_new_registry_has_build_info_and_process_after_given_collectors() -> None:
    registry = new_registry(First())
    labels = {"version": __version__, "python_version": platform.python_version()}
    assert registry.get_sample_value("allim_build_info", labels) == 1
    assert registry.get_sample_value("process_resident_memory_bytes") is not None
    text = generate_latest(registry).decode()
    assert text.startswith("# HELP first_value Comes first")
    assert text.index("process_") < text.index("allim_build_info")


def test_metrics_each_registry_is_private() -> None:
    assert new_registry() is not new_registry()
    new_registry()  # a second one registers its own build info without a duplicate-name error
