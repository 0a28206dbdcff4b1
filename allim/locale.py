"""The languages allim speaks and the time zone its pages and messages show times in, read the same way by the
exporter (its status page) and the bridge (notifications and console): `language`/`ALLIM_LANGUAGE`,
`timezone`/`ALLIM_TIMEZONE`, a bad value reported as a problem that names the key."""

from __future__ import annotations

import zoneinfo

from allim.settings import Settings

LANGUAGES = ("en", "ko")


def language_setting(settings: Settings, default: str, *, env: bool) -> str:
    """`language` (or ALLIM_LANGUAGE when `env`): `en` or `ko`."""
    value = settings.string("language", default, env="ALLIM_LANGUAGE" if env else None, choices=LANGUAGES)
    return str(value)


def timezone_setting(settings: Settings, default: str, *, env: bool) -> str:
    """`timezone` (or ALLIM_TIMEZONE when `env`): an IANA zone name; UTC, with a problem noted, when unknown."""
    zone = str(settings.string("timezone", default, env="ALLIM_TIMEZONE" if env else None))
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        settings.problem("timezone", f"unknown time zone {zone!r} (an IANA name such as Asia/Seoul)")
        return "UTC"
    return zone
