"""Pure mapping from one round of host readings to the host_* families, and the filters that pick what to read.

    # HELP host_cpu_usage_ratio Busy share of all CPUs over the last interval (cached, refreshed every 15s)
    # TYPE host_cpu_usage_ratio gauge
    host_cpu_usage_ratio 0.07
    host_filesystem_usage_ratio{device="/dev/vda",fstype="ext4",mountpoint="/"} 0.42
    host_network_receive_bytes_total{interface="eth0"} 1.2e+09

Names start with `host_`, not `node_`: machine metrics under node_exporter's names would clash with it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.sources.host.config import HostConfig
from exporter.sources.host.hostroot import NetCounters, Partition


class Filesystem(NamedTuple):
    mountpoint: str
    device: str
    fstype: str
    size: int
    avail: int
    used: int


class HostReading(NamedTuple):
    """One round of readings: plain data, mapped to metrics by `families_from_reading`."""

    cpu_busy_ratio: float
    load: tuple[float, float, float]
    memory_total: int
    memory_available: int
    filesystems: list[Filesystem]
    network: dict[str, NetCounters]


def select_partitions(partitions: list[Partition], config: HostConfig) -> list[Partition]:
    """Real filesystems only, each device once (bind mounts repeat it: the shortest mountpoint wins)."""
    chosen: dict[tuple[str, str], Partition] = {}
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
    return float(min(1.0, max(0.0, 1.0 - idle / total)))


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
