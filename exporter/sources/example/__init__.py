"""Example: a scratch source (one gauge from a JSON API), to see what a new source takes."""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.example.config import load_example_config
from exporter.sources.example.source import ExampleSource

KIND = SourceKind("example", load_example_config, ExampleSource)
