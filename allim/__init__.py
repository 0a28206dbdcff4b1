"""Pieces shared by the exporter and the bridge: logging, secrets, settings, serving."""

__version__ = "0.1.0"
