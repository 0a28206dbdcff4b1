from __future__ import annotations

from collections import namedtuple

from prometheus_client import CollectorRegistry

from allim.settings import Settings
from exporter.exposition import Families
from exporter.sources.host import HostSource, load_host_config
from exporter.sources.host.metrics import Filesystem, HostReading, busy_ratio, families_from_reading, select_partitions

Part = namedtuple("Part", "device mountpoint fstype opts")
Times = namedtuple("Times", "user nice system idle iowait")
NetIO = namedtuple("NetIO", "bytes_sent bytes_recv packets_sent packets_recv errin errout dropin dropout")

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
        network={"eth0": NetIO(10, 20, 1, 2, 3, 4, 0, 0)},
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
