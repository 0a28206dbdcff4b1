from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.sources.upstream import number


def families_from_status(body: Any) -> list[Metric]:
    return [GaugeMetricFamily("example_items", "Items the example API reports", number(body.get("items"), "status"))]
