"""Collects the host's own CPU, load, memory, filesystem and network figures through psutil (metrics.py maps them)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import psutil
from prometheus_client.metrics_core import Metric

from exporter.sources.host.config import HostConfig
from exporter.sources.host.metrics import Filesystem, HostReading, busy_ratio, families_from_reading, select_partitions


class HostSource:
    """Reads psutil in a worker thread; CPU usage is measured between consecutive polls, not since boot."""

    name = "host"

    def __init__(self, config: HostConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._cpu_before: Any = None

    async def collect(self) -> list[Metric]:
        reading = await asyncio.to_thread(self.read)
        return families_from_reading(reading)

    def read(self) -> HostReading:
        if self._cpu_before is None:
            # First poll: no previous reading, so measure over a short window rather than report since-boot.
            self._cpu_before = psutil.cpu_times()
            time.sleep(0.25)
        cpu_now = psutil.cpu_times()
        ratio = busy_ratio(self._cpu_before, cpu_now)
        self._cpu_before = cpu_now
        memory = psutil.virtual_memory()
        filesystems = []
        for part in select_partitions(psutil.disk_partitions(all=True), self.config):
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue  # vanished or unreadable mount: skip it rather than fail the whole source
            filesystems.append(
                Filesystem(part.mountpoint, part.device, part.fstype, usage.total, usage.free, usage.used)
            )
        exclude = self.config.interfaces_exclude
        network = {
            name: counters
            for name, counters in psutil.net_io_counters(pernic=True).items()
            if not (exclude and exclude.search(name))
        }
        return HostReading(ratio, os.getloadavg(), memory.total, memory.available, filesystems, network)
