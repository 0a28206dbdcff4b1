from __future__ import annotations

import os
import re
import shutil
from collections import namedtuple
from pathlib import Path

import psutil
import pytest
from prometheus_client import CollectorRegistry

from allim.settings import Settings
from exporter.exposition import Families
from exporter.sources.host import HostSource, load_host_config
from exporter.sources.host.config import DEFAULT_INTERFACES_EXCLUDE
from exporter.sources.host.hostroot import NetCounters, parse_mounts
from exporter.sources.host.metrics import Filesystem, HostReading, busy_ratio, families_from_reading, select_partitions
from tests.support import samples

Part = namedtuple("Part", "device mountpoint fstype opts")
Times = namedtuple("Times", "user nice system idle iowait")
# A host's / as a container sees it: proc/ with the host's PID 1 (mount table, network counters), stat, meminfo and
# loadavg. Filesystems are described by the statvfs the tests pass in.
HOST_ROOT = Path(__file__).with_name("hostroot")
MIB = 1024 * 1024

PARTITIONS = [
    Part("proc", "/proc", "proc", "rw"),
    Part("sysfs", "/sys", "sysfs", "rw"),
    Part("cgroup2", "/sys/fs/cgroup/unified", "cgroup2", "rw"),
    Part("/dev/vda1", "/", "ext4", "rw"),
    Part("/dev/vda1", "/var/lib/docker/overlay2/x", "ext4", "rw"),  # bind mount of the same disk
    Part("/dev/vda1", "/srv/bind", "ext4", "rw"),
    Part("/dev/vdb", "/data", "xfs", "rw"),
    Part("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay", "rw"),
    Part("/dev/loop3", "/snap/core/123", "squashfs", "ro"),
    Part("tmpfs", "/run", "tmpfs", "rw"),
    Part("devtmpfs", "/dev", "devtmpfs", "rw"),
]


def host_config(**raw: object):  # type: ignore[no-untyped-def]
    settings = Settings(raw, {})
    config = load_host_config(settings)
    assert settings.problems == []
    return config


def test_host_selects_real_filesystems_once() -> None:
    chosen = select_partitions(PARTITIONS, host_config())
    assert [(p.device, p.mountpoint) for p in chosen] == [("/dev/vda1", "/"), ("/dev/vdb", "/data")]


def test_host_mountpoint_include_and_exclude() -> None:
    only_data = select_partitions(PARTITIONS, host_config(mountpoints_include="^/data$"))
    assert [p.mountpoint for p in only_data] == ["/data"]
    no_data = select_partitions(PARTITIONS, host_config(mountpoints_exclude="^/(data|proc|sys)($|/)"))
    assert "/data" not in [p.mountpoint for p in no_data]
    assert "/" in [p.mountpoint for p in no_data]


def test_host_cpu_busy_ratio_is_over_the_interval_not_since_boot() -> None:
    before = Times(user=1000, nice=0, system=500, idle=8000, iowait=500)  # 15 % busy since boot
    after = Times(user=1060, nice=0, system=520, idle=8015, iowait=5 + 500)  # 80 of 100 ticks busy
    assert busy_ratio(before, after) == 0.8
    assert busy_ratio(after, after) == 0.0


def test_host_families_map_reading() -> None:
    reading = HostReading(
        cpu_busy_ratio=0.25,
        load=(1.5, 1.0, 0.5),
        memory_total=8_000,
        memory_available=2_000,
        filesystems=[Filesystem("/", "/dev/vda1", "ext4", size=1000, avail=100, used=850)],
        network={"eth0": NetCounters(bytes_recv=20, bytes_sent=10, errin=3, errout=4)},
    )
    registry = CollectorRegistry()
    registry.register(Families(families_from_reading(reading)))  # type: ignore[arg-type]
    value = registry.get_sample_value
    fs = {"mountpoint": "/", "device": "/dev/vda1", "fstype": "ext4"}
    assert value("host_cpu_usage_ratio") == 0.25
    assert (value("host_load1"), value("host_load5"), value("host_load15")) == (1.5, 1.0, 0.5)
    assert value("host_memory_usage_ratio") == 0.75
    assert value("host_filesystem_size_bytes", fs) == 1000
    assert value("host_filesystem_avail_bytes", fs) == 100
    # df's figure: used / (used + available to users), reserved blocks excluded
    assert value("host_filesystem_usage_ratio", fs) == 850 / 950
    assert value("host_network_receive_bytes_total", {"interface": "eth0"}) == 20
    assert value("host_network_transmit_bytes_total", {"interface": "eth0"}) == 10
    assert value("host_network_receive_errors_total", {"interface": "eth0"}) == 3
    assert value("host_network_transmit_errors_total", {"interface": "eth0"}) == 4


async def test_host_source_reads_this_machine() -> None:
    source = HostSource(host_config())
    families = {f.name: f for f in await source.collect()}
    cpu = families["host_cpu_usage_ratio"].samples[0].value
    assert 0.0 <= cpu <= 1.0
    assert families["host_memory_total_bytes"].samples[0].value > 0
    mountpoints = {s.labels["mountpoint"] for s in families["host_filesystem_size_bytes"].samples}
    assert "/" in mountpoints
    assert not any(m.startswith(("/proc", "/sys")) for m in mountpoints)
    interfaces = {s.labels["interface"] for s in families["host_network_receive_bytes"].samples}
    assert "lo" not in interfaces


class FakeFilesystems:
    """statvfs for the fake root: `fsid` and size in MiB per path (relative to the root), each call recorded."""

    def __init__(self, root: Path, layout: dict[str, tuple[int, int, int]]) -> None:
        self.root = str(root)
        self.layout = layout  # "/srv/data": (fsid, size MiB, free MiB)
        self.calls: list[str] = []

    def __call__(self, path: str) -> os.statvfs_result:
        self.calls.append(path)
        fsid, size, free = self.layout[path.removeprefix(self.root) or "/"]
        blocks = size * MIB // 4096
        free_blocks = free * MIB // 4096
        fields = (4096, 4096, blocks, free_blocks, free_blocks - 10, 0, 0, 0, 0, 255)
        return os.statvfs_result(fields, {"f_fsid": fsid})


FILESYSTEMS = {"/": (11, 1000, 400), "/srv/data": (22, 500, 100), "/mnt/backup disk": (33, 200, 150)}


async def read_host_root(layout: dict[str, tuple[int, int, int]], **raw: object) -> tuple[dict, FakeFilesystems]:
    statvfs = FakeFilesystems(HOST_ROOT, layout)
    source = HostSource(host_config(rootfs=str(HOST_ROOT), **raw), statvfs=statvfs)
    return samples(await source.collect()), statvfs


def filesystem_labels(found: dict) -> set[tuple[str, str, str]]:
    return {
        (d["mountpoint"], d["device"], d["fstype"])
        for (name, labels), _ in found.items()
        for d in [dict(labels)]
        if name == "host_filesystem_size_bytes"
    }


async def test_host_root_reports_the_hosts_mounts_as_the_host_sees_them() -> None:
    found, statvfs = await read_host_root(FILESYSTEMS)
    assert filesystem_labels(found) == {
        ("/", "/dev/vda", "ext4"),
        ("/srv/data", "/dev/vdb1", "xfs"),
        ("/mnt/backup disk", "/dev/vdc1", "ext4"),  # \040 in the mount table
    }
    # Measured under the root, reported without it.
    assert {f"{HOST_ROOT}/srv/data", f"{HOST_ROOT}/mnt/backup disk", f"{HOST_ROOT}/"} <= set(statvfs.calls)
    data = (("device", "/dev/vdb1"), ("fstype", "xfs"), ("mountpoint", "/srv/data"))
    assert found[("host_filesystem_size_bytes", data)] == 500 * MIB
    assert found[("host_filesystem_avail_bytes", data)] == 100 * MIB - 10 * 4096


async def test_host_root_reads_cpu_memory_load_and_network_from_the_hosts_proc() -> None:
    found, _ = await read_host_root(FILESYSTEMS)
    meminfo = dict(re.findall(r"^(\w+):\s+(\d+) kB", (HOST_ROOT / "proc/meminfo").read_text(), re.MULTILINE))
    assert found[("host_memory_total_bytes", ())] == int(meminfo["MemTotal"]) * 1024
    assert found[("host_memory_available_bytes", ())] == int(meminfo["MemAvailable"]) * 1024
    assert (found[("host_load1", ())], found[("host_load5", ())], found[("host_load15", ())]) == (1.25, 0.75, 0.5)
    assert found[("host_cpu_usage_ratio", ())] == 0.0  # the same /proc/stat twice: no CPU time went by
    interfaces = {dict(labels)["interface"] for name, labels in found if name == "host_network_receive_bytes_total"}
    assert interfaces == {"eth0", "ens4"}  # the container bridges, veths, ifb, cni, flannel and calico are left out
    eth0 = (("interface", "eth0"),)
    assert found[("host_network_receive_bytes_total", eth0)] == 938949599
    assert found[("host_network_transmit_bytes_total", eth0)] == 12345678
    assert (
        found[("host_network_receive_errors_total", eth0)],
        found[("host_network_transmit_errors_total", eth0)],
    ) == (3, 4)
    assert psutil.PROCFS_PATH == "/proc"  # put back after the reading


async def test_host_root_leaves_out_a_mount_the_container_cannot_see() -> None:
    """/srv/data in the host's table, but under the root its path is on the root filesystem (fsid 11): reporting
    it would show the root's figures as /srv/data's."""
    found, _ = await read_host_root({**FILESYSTEMS, "/srv/data": (11, 1000, 400)})
    assert {m for m, _, _ in filesystem_labels(found)} == {"/", "/mnt/backup disk"}


async def test_host_root_without_the_hosts_proc_fails_the_poll(tmp_path: Path) -> None:
    shutil.copytree(HOST_ROOT, tmp_path / "root")
    (tmp_path / "root/proc/1/mounts").unlink()
    source = HostSource(
        host_config(rootfs=str(tmp_path / "root")), statvfs=FakeFilesystems(tmp_path / "root", FILESYSTEMS)
    )
    with pytest.raises(FileNotFoundError):
        await source.collect()


@pytest.mark.parametrize(
    ("interface", "excluded"),
    [
        *[
            (name, True)
            for name in ("lo", "veth1a2b", "docker0", "br-0f1e", "podman0", "podman12", "cni0", "flannel.1")
        ],
        *[(name, True) for name in ("cali8d2f", "ifb0", "ifb1")],
        *[(name, False) for name in ("eth0", "ens4", "enp0s31f6", "wlan0", "bond0", "eno1")],
    ],
)
def test_host_default_interface_filter(interface: str, excluded: bool) -> None:
    assert bool(re.search(DEFAULT_INTERFACES_EXCLUDE, interface)) is excluded


def test_host_mount_table_escapes_are_decoded() -> None:
    (part,) = parse_mounts("/dev/sdb1 /media/usb\\040stick\\011x vfat rw 0 0\n")
    assert part.mountpoint == "/media/usb stick\tx"
