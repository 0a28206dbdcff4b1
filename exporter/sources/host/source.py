"""Collects the host's CPU, load, memory, filesystem and network figures (hostroot.py reads them, metrics.py maps
them); psutil parses /proc/stat and /proc/meminfo."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import httpx
import psutil
from prometheus_client.metrics_core import Metric

from exporter.sources.host.config import HostConfig
from exporter.sources.host.hostroot import HostRoot, Statvfs
from exporter.sources.host.metrics import Filesystem, HostReading, busy_ratio, families_from_reading, select_partitions

log = logging.getLogger("exporter.host")


class HostSource:
    """Reads the host in a worker thread; CPU usage is measured between consecutive polls, not since boot."""

    name = "host"

    def __init__(
        self, config: HostConfig, client: httpx.AsyncClient | None = None, *, statvfs: Statvfs = os.statvfs
    ) -> None:
        self.config = config
        self.root = HostRoot(config.rootfs, statvfs)
        self._cpu_before: Any = None
        self._reported_hidden: set[str] = set()

    async def collect(self) -> list[Metric]:
        reading = await asyncio.to_thread(self.read)
        return families_from_reading(reading)

    def read(self) -> HostReading:
        with self.root.psutil_procfs():
            if self._cpu_before is None:
                # First poll: no previous reading, so measure over a short window rather than report since-boot.
                self._cpu_before = psutil.cpu_times()
                time.sleep(0.25)
            cpu_now = psutil.cpu_times()
            memory = psutil.virtual_memory()
        ratio = busy_ratio(self._cpu_before, cpu_now)
        self._cpu_before = cpu_now
        exclude = self.config.interfaces_exclude
        network = {
            name: counters for name, counters in self.root.network().items() if not (exclude and exclude.search(name))
        }
        return HostReading(ratio, self.root.load(), memory.total, memory.available, self.filesystems(), network)

    def filesystems(self) -> list[Filesystem]:
        partitions = self.root.partitions()
        root_device = next((p.device for p in reversed(partitions) if p.mountpoint == "/"), "")
        root = self.root.usage("/")
        found = []
        for part in select_partitions(partitions, self.config):
            try:
                if self.root.hidden(part, root_device, root):
                    self._report_hidden(part.mountpoint)
                    continue
                usage = self.root.usage(part.mountpoint)
            except OSError:
                continue  # vanished or unreadable mount: skip it rather than fail the whole source
            found.append(Filesystem(part.mountpoint, part.device, part.fstype, usage.size, usage.avail, usage.used))
        return found

    def _report_hidden(self, mountpoint: str) -> None:
        if mountpoint not in self._reported_hidden:
            self._reported_hidden.add(mountpoint)
            log.warning(
                "host mount not visible under the host root: not reported",
                extra={"mountpoint": mountpoint, "rootfs": self.config.rootfs, "hint": "mount / with rslave"},
            )
