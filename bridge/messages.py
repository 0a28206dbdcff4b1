"""The words of a notification in each supported language: one flat table per language, same keys.

The `[CRITICAL]`/`[RESOLVED]` tag of titles and subjects is not translated: it stays the same in every language
so that mail filters and Discord searches work whatever the receiver's language.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "severity": "Severity",
    "value": "Value",
    "summary": "Summary",
    "description": "Description",
    "started": "Started",
    "ended": "Ended",
    "fired_for": "Fired for",
    "days": "{n}d",
    "hours": "{n}h",
    "minutes": "{n}m",
    "seconds": "{n}s",
    "project": "Project",
    "monitor": "Monitor",
    "target": "Target",
    "location": "Location",
    "host": "Host",
    "labels": "Labels",
    "links": "Links",
    "runbook": "Runbook",
    "dashboard": "Dashboard",
    "query": "Query",
    "silence": "Silence",
    "sentry": "Sentry issue",
    "firing": "FIRING",
    "resolved": "RESOLVED",
    "critical": "critical",
    "high": "high",
    "warning": "warning",
    "info": "info",
    "more": "+{n} more",
    "counts": "{firing} firing, {resolved} resolved",
    "truncated": "{n} more alerts were left out by Alertmanager (max_alerts).",
    "receiver": "Receiver",
    "footer": "allim · {receiver}",
}

KO: dict[str, str] = {
    "severity": "심각도",
    "value": "값",
    "summary": "요약",
    "description": "설명",
    "started": "시작",
    "ended": "종료",
    "fired_for": "지속 시간",
    "days": "{n}일",
    "hours": "{n}시간",
    "minutes": "{n}분",
    "seconds": "{n}초",
    "project": "프로젝트",
    "monitor": "모니터",
    "target": "대상",
    "location": "위치",
    "host": "호스트",
    "labels": "레이블",
    "links": "링크",
    "runbook": "런북",
    "dashboard": "대시보드",
    "query": "쿼리",
    "silence": "사일런스",
    "sentry": "Sentry 이슈",
    "firing": "발생 중",
    "resolved": "해소됨",
    "critical": "긴급",
    "high": "높음",
    "warning": "주의",
    "info": "정보",
    "more": "외 {n}건",
    "counts": "발생 중 {firing}건, 해소 {resolved}건",
    "truncated": "Alertmanager가 알림 {n}건을 생략했습니다 (max_alerts).",
    "receiver": "리시버",
    "footer": "allim · {receiver}",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": EN, "ko": KO}


def words(language: str) -> dict[str, str]:
    """The table for `language`; English for an unknown language (config validation rejects those earlier)."""
    return LANGUAGES.get(language, EN)
