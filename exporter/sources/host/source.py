"""Collects the host's own CPU, load, memory, filesystem and network figures through psutil.

    # HELP host_cpu_usage_ratio Busy share of all CPUs over the last interval (cached, refreshed every 15s)
    # TYPE host_cpu_usage_ratio gauge
    host_cpu_usage_ratio 0.07
    host_filesystem_usage_ratio{device="/dev/vda",fstype="ext4",mountpoint="/"} 0.42
    host_network_receive_bytes_total{interface="eth0"} 1.2e+09

Names start with `host_`, not `node_`: machine metrics under node_exporter's names would clash with it.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
import psutil
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common

# node_exporter's defaults, plus overlay and squashfs (container layers and snaps duplicate real disks).
DEFAULT_FSTYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs"
    r"|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|tmpfs|ramfs|nfsd|fuse\.lxcfs)$"
)
DEFAULT_MOUNTPOINTS_EXCLUDE = (
    r"^/(dev|proc|run|sys|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+|snap/.+)($|/)"
)
DEFAULT_INTERFACES_EXCLUDE = r"^(lo|veth.+|docker\d+|br-.+)$"


@dataclass(frozen=True, kw_only=True)
class HostConfig(SourceConfig):
    mountpoints_include: re.Pattern[str] | None
    mountpoints_exclude: re.Pattern[str] | None
    fstypes_exclude: re.Pattern[str] | None
    interfaces_exclude: re.Pattern[str] | None


def load_host_config(settings: Settings) -> HostConfig:
    return HostConfig(
        **read_common(settings, enabled=True, interval=15),
        mountpoints_include=settings.pattern("mountpoints_include", None),
        mountpoints_exclude=settings.pattern("mountpoints_exclude", DEFAULT_MOUNTPOINTS_EXCLUDE),
        fstypes_exclude=settings.pattern("fstypes_exclude", DEFAULT_FSTYPES_EXCLUDE),
        interfaces_exclude=settings.pattern("interfaces_exclude", DEFAULT_INTERFACES_EXCLUDE),
    )


class Filesystem(NamedTuple):
    mountpoint: str
    device: str
    fstype: str
    size: int
    avail: int
    used: int


class HostReading(NamedTuple):
    """One round of psutil readings: plain data, mapped to metrics by `families_from_reading`."""

    cpu_busy_ratio: float
    load: tuple[float, float, float]
    memory_total: int
    memory_available: int
    filesystems: list[Filesystem]
    network: dict[str, Any]  # interface -> psutil snetio


def select_partitions(partitions: list[Any], config: HostConfig) -> list[Any]:
    """Real filesystems only, each device once (bind mounts repeat it: the shortest mountpoint wins)."""
    chosen: dict[tuple[str, str], Any] = {}
    for part in sorted(partitions, key=lambda p: len(p.mountpoint)):
        if config.fstypes_exclude and config.fstypes_exclude.search(part.fstype):
            continue
        if config.mountpoints_include and not config.mountpoints_include.search(part.mountpoint):
            continue
        if config.mountpoints_exclude and config.mountpoints_exclude.search(part.mountpoint):
            continue
        key = (part.device, part.fstype) if part.device.startswith("/") else (part.mountpoint, part.fstype)
        chosen.setdefault(key, part)
    return sorted(chosen.values(), key=lambda p: p.mountpoint)


def busy_ratio(before: Any, after: Any) -> float:
    """Busy share of CPU time between two psutil cpu_times() readings (idle and iowait count as not busy)."""
    total = sum(after) - sum(before)
    if total <= 0:
        return 0.0
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0.0) - getattr(before, "iowait", 0.0))
    return min(1.0, max(0.0, 1.0 - idle / total))


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


def families_from_reading(reading: HostReading) -> list[Metric]:
    """The host_* families for one reading."""
    families: list[Metric] = [
        GaugeMetricFamily(
            "host_cpu_usage_ratio", "Busy share of all CPUs over the last interval", reading.cpu_busy_ratio
        )
    ]
    for window, value in zip(("1", "5", "15"), reading.load, strict=True):
        families.append(GaugeMetricFamily(f"host_load{window}", f"{window}-minute load average", value))
    families.append(GaugeMetricFamily("host_memory_total_bytes", "Total physical memory", reading.memory_total))
    families.append(
        GaugeMetricFamily("host_memory_available_bytes", "Memory available without swapping", reading.memory_available)
    )
    used_share = 1 - reading.memory_available / reading.memory_total if reading.memory_total else 0.0
    families.append(GaugeMetricFamily("host_memory_usage_ratio", "Share of memory not available", used_share))

    labels = ["mountpoint", "device", "fstype"]
    size = GaugeMetricFamily("host_filesystem_size_bytes", "Filesystem size", labels=labels)
    avail = GaugeMetricFamily(
        "host_filesystem_avail_bytes", "Filesystem space available to non-root users", labels=labels
    )
    usage = GaugeMetricFamily(
        "host_filesystem_usage_ratio", "Share of filesystem space in use, as df reports it", labels=labels
    )
    for fs in reading.filesystems:
        label_values = [fs.mountpoint, fs.device, fs.fstype]
        size.add_metric(label_values, fs.size)
        avail.add_metric(label_values, fs.avail)
        usable = fs.used + fs.avail
        usage.add_metric(label_values, fs.used / usable if usable else 0.0)
    families += [size, avail, usage]

    counters = {
        "receive_bytes": ("bytes_recv", "Bytes received"),
        "transmit_bytes": ("bytes_sent", "Bytes sent"),
        "receive_errors": ("errin", "Receive errors"),
        "transmit_errors": ("errout", "Transmit errors"),
    }
    for suffix, (field, help_text) in counters.items():
        family = CounterMetricFamily(f"host_network_{suffix}", f"{help_text} by the interface", labels=["interface"])
        for interface, stats in sorted(reading.network.items()):
            family.add_metric([interface], getattr(stats, field))
        families.append(family)
    return families
