"""Host: this machine's CPU, load, memory, filesystems and network through psutil (host_* names, not node_*).

config.py (the `host:` section), metrics.py (readings to host_* families, partition selection), source.py
(HostSource: psutil in a worker thread).
"""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.host.config import HostConfig, load_host_config
from exporter.sources.host.source import HostSource

KIND = SourceKind("host", load_host_config, HostSource)

__all__ = ["KIND", "HostConfig", "HostSource", "load_host_config"]
