from __future__ import annotations

import httpx
from prometheus_client.metrics_core import Metric

from exporter.sources.example.config import ExampleConfig
from exporter.sources.example.metrics import families_from_status
from exporter.sources.upstream import RateLimitGate, Upstream


class ExampleSource:
    name = "example"

    def __init__(self, config: ExampleConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.gate = RateLimitGate()
        self.upstream = Upstream(client, base_url=config.api_base, gate=self.gate, token=config.token)

    async def collect(self) -> list[Metric]:
        return families_from_status(await self.upstream.get_json("/status", None, "GET /status"))
