"""GA4: realtime traffic of one property (active users, page views, top events, error pages, quota left).

config.py (the `ga4:` section and key-file check), auth.py (service-account token through google-auth, imported
only when GA4 is configured), api.py (the two report calls), metrics.py (reports to ga4_* families),
source.py (Ga4Source).
"""

from __future__ import annotations

from exporter.sources.base import SourceKind
from exporter.sources.ga4.config import Ga4Config, load_ga4_config
from exporter.sources.ga4.source import Ga4Source

KIND = SourceKind("ga4", load_ga4_config, Ga4Source)

__all__ = ["KIND", "Ga4Config", "Ga4Source", "load_ga4_config"]
