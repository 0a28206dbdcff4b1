"""The `host:` section: which filesystems and network interfaces to report.

host:
  interval: 15s
  mountpoints_exclude: "^/(dev|proc|run|sys)($|/)"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
