"""Our alert format, rendered without I/O: titles, text and HTML mail bodies, Discord payloads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Formatting:
    """How a receiver words and dates its notifications."""

    language: str = "en"  # "en" | "ko"
    timezone: str = "UTC"  # an IANA zone name, e.g. "Asia/Seoul"
    dashboard_url: str | None = None  # a Grafana link added to every notification when set
