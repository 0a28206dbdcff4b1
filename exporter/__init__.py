"""allim exporter: upstream signals as cached Prometheus metrics."""

from allim import __version__

__all__ = ["__version__"]
