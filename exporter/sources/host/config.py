"""The `host:` section: where the host's root is, and which filesystems and network interfaces to report.

host:
  interval: 15s
  rootfs: /host          # or ALLIM_HOST_ROOTFS, or the flag --path.rootfs; default /
  mountpoints_exclude: "^/(dev|proc|run|sys)($|/)"
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from allim.settings import ConfigError, Settings
from exporter.sources.base import SourceConfig, read_common

# node_exporter's defaults, plus overlay and squashfs (container layers and snaps duplicate real disks).
DEFAULT_FSTYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs"
    r"|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|tmpfs|ramfs|nfsd|fuse\.lxcfs)$"
)
DEFAULT_MOUNTPOINTS_EXCLUDE = (
    r"^/(dev|proc|run|sys|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+|snap/.+)($|/)"
)
# Loopback, and the virtual interfaces container engines and Kubernetes network plugins add: each container's veth,
# the bridges of Docker (docker0, br-*), Podman (podman0, podman1, ...) and CNI (cni0), flannel's and Calico's
# devices, and the ifb devices traffic shaping uses. Their traffic is also counted on the real interface.
DEFAULT_INTERFACES_EXCLUDE = r"^(lo|veth.+|docker\d+|br-.+|podman\d+|cni.+|flannel.+|cali.+|ifb\d+)$"
ROOTFS_ENV = "ALLIM_HOST_ROOTFS"
ROOTFS_FLAG = "--path.rootfs"


@dataclass(frozen=True, kw_only=True)
class HostConfig(SourceConfig):
    # The host's / as the exporter sees it: "/" on the host itself, where the host's / is mounted in a container.
    rootfs: str
    mountpoints_include: re.Pattern[str] | None
    mountpoints_exclude: re.Pattern[str] | None
    fstypes_exclude: re.Pattern[str] | None
    interfaces_exclude: re.Pattern[str] | None


def rootfs_problem(path: str) -> str | None:
    """What is wrong with `path` as the host's root (None when nothing is): it must hold the host's /proc."""
    if not path.startswith("/"):
        return f"must be an absolute path, got {path!r}"
    if not os.path.isdir(os.path.join(path, "proc")):
        return f"{os.path.join(path, 'proc')} is not a directory: mount the host's / there (read-only)"
    return None


def normal_rootfs(path: str) -> str:
    """ "/host/" and "/host" are the same root; "/" stays "/"."""
    return path.rstrip("/") or "/"


def load_host_config(settings: Settings) -> HostConfig:
    common = read_common(settings, enabled=True, interval=15)
    # A disabled source reads nothing: its root need not exist.
    check = rootfs_problem if common["enabled"] else (lambda path: None)
    return HostConfig(
        **common,
        rootfs=normal_rootfs(settings.checked("rootfs", "/", check, env=ROOTFS_ENV)),
        mountpoints_include=settings.pattern("mountpoints_include", None),
        mountpoints_exclude=settings.pattern("mountpoints_exclude", DEFAULT_MOUNTPOINTS_EXCLUDE),
        fstypes_exclude=settings.pattern("fstypes_exclude", DEFAULT_FSTYPES_EXCLUDE),
        interfaces_exclude=settings.pattern("interfaces_exclude", DEFAULT_INTERFACES_EXCLUDE),
    )


def with_rootfs(config: HostConfig, rootfs: str) -> HostConfig:
    """The config with the root the --path.rootfs flag names (it wins over the key and the environment)."""
    problem = rootfs_problem(rootfs) if config.enabled else None
    if problem:
        raise ConfigError([f"{ROOTFS_FLAG}: {problem}"])
    return replace(config, rootfs=normal_rootfs(rootfs))
