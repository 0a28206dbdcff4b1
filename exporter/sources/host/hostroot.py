"""The host as seen through its root directory, node_exporter's `--path.rootfs`: "/" when the exporter runs on the
host, the path where the host's / is mounted (read-only) when it runs in a container.

Under a root other than "/" everything comes from the host's /proc inside it, and from the host's PID 1 there:
its mount table (`proc/1/mounts`, the host's mount namespace, so mountpoints read `/`, not `/host`) and its network
counters (`proc/1/net/dev`, the host's network namespace), whatever namespaces the exporter's own container has.
A filesystem's figures are `statvfs(<root> + mountpoint)`. On the host itself the exporter reads its own view
(`/proc/self/...`), which is what it can measure.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import psutil

Statvfs = Callable[[str], os.statvfs_result]
_ESCAPED = re.compile(r"\\([0-7]{3})")
_PSUTIL_PROCFS = threading.Lock()


class Partition(NamedTuple):
    """One line of a mount table."""

    device: str
    mountpoint: str
    fstype: str
    opts: str


class NetCounters(NamedTuple):
    """One interface's line of /proc/net/dev (the names psutil's net_io_counters uses)."""

    bytes_recv: int
    bytes_sent: int
    errin: int
    errout: int


class Usage(NamedTuple):
    """A filesystem's space in bytes, as df computes it."""

    size: int
    avail: int
    used: int
    fsid: int


def unescape(field: str) -> str:
    """A mount table field with its octal escapes (`\\040` for a space) decoded."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Partition]:
    parts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            parts.append(Partition(unescape(fields[0]), unescape(fields[1]), fields[2], fields[3]))
    return parts


def parse_net_dev(text: str) -> dict[str, NetCounters]:
    """/proc/net/dev: two header lines, then `name: rx_bytes rx_packets rx_errs ... tx_bytes tx_packets tx_errs`."""
    counters = {}
    for line in text.splitlines()[2:]:
        name, _, numbers = line.partition(":")
        fields = numbers.split()
        if len(fields) >= 11:
            counters[name.strip()] = NetCounters(int(fields[0]), int(fields[8]), int(fields[2]), int(fields[10]))
    return counters


def usage_from_statvfs(stat: os.statvfs_result) -> Usage:
    return Usage(
        size=stat.f_blocks * stat.f_frsize,
        avail=stat.f_bavail * stat.f_frsize,
        used=(stat.f_blocks - stat.f_bfree) * stat.f_frsize,
        fsid=stat.f_fsid,
    )


@dataclass(frozen=True)
class HostRoot:
    """Reads the host under `rootfs`; `statvfs` is injectable so tests can describe filesystems."""

    rootfs: str = "/"
    statvfs: Statvfs = os.statvfs

    @property
    def on_host(self) -> bool:
        return self.rootfs == "/"

    @property
    def procfs(self) -> str:
        return os.path.join(self.rootfs, "proc")

    def _process_file(self, name: str) -> str:
        return os.path.join(self.procfs, "self" if self.on_host else "1", name)

    def partitions(self) -> list[Partition]:
        with open(self._process_file("mounts"), encoding="utf-8", errors="replace") as f:
            return parse_mounts(f.read())

    def network(self) -> dict[str, NetCounters]:
        with open(self._process_file("net/dev"), encoding="utf-8", errors="replace") as f:
            return parse_net_dev(f.read())

    def load(self) -> tuple[float, float, float]:
        """The 1, 5 and 15 minute load averages from the host's /proc/loadavg."""
        with open(os.path.join(self.procfs, "loadavg"), encoding="ascii") as f:
            one, five, fifteen = (float(v) for v in f.read().split()[:3])
        return one, five, fifteen

    def path(self, mountpoint: str) -> str:
        """Where the host's `mountpoint` is under the root."""
        return mountpoint if self.on_host else self.rootfs + mountpoint

    def usage(self, mountpoint: str) -> Usage:
        return usage_from_statvfs(self.statvfs(self.path(mountpoint)))

    def hidden(self, part: Partition, root_device: str, root: Usage) -> bool:
        """True for a host mount that is not mounted under the root (the host's / was bind-mounted without its
        submounts, or the mount came later without `rslave` propagation): its path then lies on the root's own
        filesystem, whose figures it would report. Bind mounts of the root's device are not hidden."""
        if self.on_host or part.mountpoint == "/" or part.device == root_device or not root.fsid:
            return False
        return self.usage(part.mountpoint).fsid == root.fsid

    @contextlib.contextmanager
    def psutil_procfs(self) -> Iterator[None]:
        """psutil reads the module global PROCFS_PATH: pointed at the host's /proc for one reading, then put back."""
        with _PSUTIL_PROCFS:
            saved = psutil.PROCFS_PATH
            psutil.PROCFS_PATH = self.procfs
            try:
                yield
            finally:
                psutil.PROCFS_PATH = saved
