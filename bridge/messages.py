"""The words of a notification in each supported language: one flat table per language, same keys.

The Korean table follows the project's glossary (alert 알림, firing 발생 중, resolved 해소됨, receiver 리시버,
severities 긴급 · 높음 · 주의 · 정보). The `[CRITICAL]`/`[RESOLVED]` tag of titles and subjects is not translated: it
stays the same in every language so that mail filters and Discord searches work whatever the receiver's language.
An alert's own sentences (summary, description, value) are not here: they come from its rule, in the receiver's
language when the rule has it (`summary_ko`; see Alert.text).
"""

from __future__ import annotations

EN: dict[str, str] = {
    "status": "Status",
    "firing": "firing",
    "resolved": "resolved",
    "severity": "Severity",
    "critical": "critical",
    "high": "high",
    "warning": "warning",
    "info": "info",
    "value": "Value",
    "last_value": "Last value while firing",
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
    "property": "GA4 property",
    "mountpoint": "Mountpoint",
    "interface": "Interface",
    "location": "Check location",
    "host": "Host",
    "scrape_target": "Scrape target",
    "labels": "Labels",
    "links": "Links",
    "runbook": "Runbook",
    "dashboard": "Dashboard",
    "query": "Query",
    "silence": "Silence",
    "sentry": "Sentry issue",
    "more": "+{n} more",
    "counts": "{firing} firing, {resolved} resolved",
    "truncated": "Alertmanager left out {n} more alerts of this group (max_alerts).",
    "truncated_where": "The whole group is in Alertmanager's UI: {url}",
    "truncated_nowhere": "The whole group is in Alertmanager's UI (Alerts page).",
    "footer": "allim · {receiver}",
}

KO: dict[str, str] = {
    "status": "상태",
    "firing": "발생 중",
    "resolved": "해소됨",
    "severity": "심각도",
    "critical": "긴급",
    "high": "높음",
    "warning": "주의",
    "info": "정보",
    "value": "값",
    "last_value": "발생 중 마지막 값",
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
    "property": "GA4 속성",
    "mountpoint": "마운트 지점",
    "interface": "네트워크 인터페이스",
    "location": "확인 위치",
    "host": "호스트",
    "scrape_target": "스크레이프 대상",
    "labels": "레이블",
    "links": "링크",
    "runbook": "런북",
    "dashboard": "대시보드",
    "query": "쿼리",
    "silence": "사일런스",
    "sentry": "Sentry 이슈",
    "more": "외 {n}건",
    "counts": "발생 중 {firing}건, 해소됨 {resolved}건",
    "truncated": "Alertmanager가 이 그룹의 알림 {n}건을 생략했습니다 (max_alerts).",
    "truncated_where": "그룹 전체는 Alertmanager UI에서 볼 수 있습니다: {url}",
    "truncated_nowhere": "그룹 전체는 Alertmanager UI의 Alerts 화면에서 볼 수 있습니다.",
    "footer": "allim · {receiver}",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": EN, "ko": KO}


def words(language: str) -> dict[str, str]:
    """The table for `language`; English for an unknown language (config validation rejects those earlier)."""
    return LANGUAGES.get(language, EN)
