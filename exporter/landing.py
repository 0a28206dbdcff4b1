"""The exporter's landing page (`GET /`): which source is failing and why, at a glance, in the services' shared look.

Per source: its state, last success (and how long ago), last error (SourceError messages hold no secret), poll
duration, next poll, series served, the upstream's rate-limit allowance where it says one; the webhook endpoints
and whether each is enabled; links to /metrics, /healthz and /readyz. English, or Korean with ALLIM_LANGUAGE=ko;
times in ALLIM_TIMEZONE (the bridge's settings: allim.locale).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from allim.web.pages import environment, page
from exporter.snapshot import Snapshot, SourceState
from exporter.sources import SOURCES

TEMPLATES = environment("exporter")

EN: dict[str, str] = {
    "exporter": "exporter",
    "sources": "Sources",
    "source": "Source",
    "state": "State",
    "up": "up",
    "down": "down",
    "waiting": "first poll running",
    "interval": "Interval",
    "last_success": "Last success",
    "last_error": "Last error",
    "duration": "Poll took",
    "next_poll": "Next poll",
    "series": "Series",
    "rate_limit": "Rate limit left",
    # One sentence per language, filled with the time and how far off it is: no fragments glued in the template.
    "deferred": "rate limited: no call to the upstream until {until} ({left})",
    "stale": "data older than max_age, not served",
    "webhooks": "Webhooks",
    "endpoint": "Endpoint",
    "enabled": "enabled",
    "disabled": "disabled (the source is off)",
    "version": "Version",
    "uptime": "Uptime",
    "none": "none",
    "no_sources": "No source is enabled.",
    "endpoints": "Endpoints",
}
KO: dict[str, str] = {
    "exporter": "익스포터",
    "sources": "소스",
    "source": "소스",
    "state": "상태",
    "up": "정상",
    "down": "실패",
    "waiting": "첫 폴링 중",
    "interval": "주기",
    "last_success": "마지막 성공",
    "last_error": "마지막 오류",
    "duration": "폴링 소요 시간",
    "next_poll": "다음 폴링",
    "series": "시계열",
    "rate_limit": "남은 요청 한도",
    "deferred": "요청 한도 초과로 {until}({left})까지 업스트림을 호출하지 않음",
    "stale": "max_age보다 오래된 데이터라 내보내지 않음",
    "webhooks": "웹훅",
    "endpoint": "엔드포인트",
    "enabled": "사용",
    "disabled": "사용 안 함 (소스가 꺼져 있음)",
    "version": "버전",
    "uptime": "가동 시간",
    "none": "없음",
    "no_sources": "켜진 소스가 없습니다.",
    "endpoints": "엔드포인트",
}
LANGUAGES: Mapping[str, Mapping[str, str]] = {"en": EN, "ko": KO}


def _source_row(name: str, state: SourceState, now: float) -> dict[str, Any]:
    gate = getattr(state.source, "gate", None)
    not_before = getattr(gate, "not_before", 0.0) or 0.0
    return {
        "name": name,
        "state": "up" if state.up else ("down" if state.attempted else "waiting"),
        "interval": state.source.config.interval,
        "last_success": state.last_success,
        "last_error": state.last_error,
        "last_error_at": state.last_error_at,
        "duration": state.duration,
        "next_poll": state.next_poll,
        "series": state.series if state.chunk else None,  # what /metrics serves of it now
        "stale": state.last_success is not None and not state.up and now >= state.expires_at,
        "rate_limit": getattr(gate, "remaining", None),
        "deferred_until": not_before if not_before > now else None,
    }


def landing_page(
    request: Request,
    snapshot: Snapshot,
    enabled: set[str],
    *,
    language: str = "en",
    zone: str = "UTC",
    started_at: float | None = None,
    clock: Callable[[], float] = time.time,
) -> Response:
    now = clock()
    webhooks = [
        {"path": kind.webhook_path, "source": kind.name, "enabled": kind.name in enabled}
        for kind in SOURCES.values()
        if kind.webhook is not None
    ]
    context = {
        "t": LANGUAGES.get(language, EN),
        "sources": [_source_row(name, state, now) for name, state in snapshot.states.items()],
        "webhooks": webhooks,
        "uptime": now - started_at if started_at else None,
    }
    language = language if language in LANGUAGES else "en"
    return page(TEMPLATES, request, "landing.html", context, language=language, zone=zone, clock=clock)
