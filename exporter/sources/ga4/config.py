"""The `ga4:` section: property id, service-account key file, API base, top events, error-page matching.

ga4:
  property_id: "123456789"                       # or GA4_PROPERTY_ID
  credentials_file: /run/secrets/ga4-key.json    # or GOOGLE_APPLICATION_CREDENTIALS
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common

DEFAULT_API_BASE = "https://analyticsdata.googleapis.com"
DEFAULT_ERROR_PAGE_PATTERN = "404|not found|페이지를 찾을 수 없"


@dataclass(frozen=True, kw_only=True)
class Ga4Config(SourceConfig):
    property_id: str
    api_base: str
    credentials_file: str
    client_email: str
    key: Secret = field(repr=False)
    top_events: int
    error_page_pattern: re.Pattern[str]
    error_page_event: str | None
    rate_limit_delay: float | None  # None: back off until the next full hour after a 429


def load_ga4_config(settings: Settings) -> Ga4Config:
    property_id = settings.string("property_id", env="GA4_PROPERTY_ID") or ""
    credentials_file = settings.string("credentials_file", env="GOOGLE_APPLICATION_CREDENTIALS") or ""
    common = read_common(settings, enabled=bool(property_id and credentials_file), interval=60)
    # GOOGLE_APPLICATION_CREDENTIALS serves other Google libraries too: alone, it neither enables GA4 nor gets
    # checked. Once GA4 is configured, the whole section is checked, GA4_API_BASE included.
    configured = common["enabled"] or bool(property_id)
    if configured:
        api_base = settings.url("api_base", DEFAULT_API_BASE, env="GA4_API_BASE", base=True) or DEFAULT_API_BASE
    else:
        api_base = settings.string("api_base", DEFAULT_API_BASE, env="GA4_API_BASE") or DEFAULT_API_BASE
    top_events = settings.integer("top_events", 10, env="GA4_TOP_EVENTS", minimum=1, maximum=50)
    pattern_text = settings.string("error_page_pattern", DEFAULT_ERROR_PAGE_PATTERN, env="GA4_ERROR_PAGE_PATTERN")
    try:
        pattern = re.compile(pattern_text or DEFAULT_ERROR_PAGE_PATTERN, re.IGNORECASE)
    except re.error as exc:
        settings.problem("error_page_pattern", f"not a valid regular expression: {exc}")
        pattern = re.compile(DEFAULT_ERROR_PAGE_PATTERN, re.IGNORECASE)
    error_page_event = settings.string("error_page_event", None, env="GA4_ERROR_PAGE_EVENT") or None
    delay = settings.duration("rate_limit_delay", 0, minimum=0) or None

    client_email, key = "", Secret("")
    if configured:
        if not property_id:
            settings.problem("property_id", "required (or environment variable GA4_PROPERTY_ID)")
        elif not property_id.isdigit():
            settings.problem("property_id", f"must be the numeric GA4 property id, not {property_id!r}")
        if not credentials_file:
            settings.problem(
                "credentials_file", "required: a service-account JSON key (or GOOGLE_APPLICATION_CREDENTIALS)"
            )
        else:
            # google-auth (and its crypto) is imported only when GA4 is configured: ~50 ms and a few MB otherwise.
            from exporter.sources.ga4.auth import KeyFileError, read_key_file

            try:
                client_email, key = read_key_file(credentials_file)
            except KeyFileError as exc:
                settings.problem("credentials_file", str(exc))
    return Ga4Config(
        **common,
        property_id=property_id,
        api_base=api_base,
        credentials_file=credentials_file,
        client_email=client_email,
        key=key,
        top_events=top_events,
        error_page_pattern=pattern,
        error_page_event=error_page_event,
        rate_limit_delay=delay,
    )
