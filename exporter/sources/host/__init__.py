"""Host: the CPU, load, memory, filesystems and network of the machine (host_* names, not node_*), read on the host
or, from a container, through the host's / mounted at a root path.

config.py (the `host:` section), hostroot.py (reading the host's /proc and filesystems under its root), metrics.py
(readings to host_* families, partition selection), source.py (HostSource: the readings in a worker thread).
"""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.host.config import HostConfig, load_host_config
from exporter.sources.host.source import HostSource

KIND = SourceKind("host", load_host_config, HostSource)

__all__ = ["KIND", "HostConfig", "HostSource", "load_host_config"]
