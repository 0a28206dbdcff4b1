"""The console's words in each supported language: one flat table per language, same keys (as bridge/messages.py)."""

from __future__ import annotations

from allim.rejected import Rejected

EN: dict[str, str] = {
    "console": "bridge console",
    "overview": "Overview",
    "notifications": "Notifications",
    "version": "Version",
    "store": "Store",
    "uptime": "Uptime",
    "language": "Language",
    "access": "Access",
    "access_token": "token required (basic auth: any user name, the token as password)",
    "access_open": "open (no BRIDGE_AUTH_TOKEN)",
    "read_only": "Read-only: set BRIDGE_AUTH_TOKEN, or start the bridge with --web.console-actions, to retry "
    "deliveries and send tests from here.",
    "actions_open": "Actions are on without BRIDGE_AUTH_TOKEN: anyone who can reach the bridge can use them.",
    "receivers": "Receivers and channels",
    "receiver": "Receiver",
    "channel": "Channel",
    "target": "Target",
    "pending": "pending",
    "sent": "sent",
    "dead": "dead",
    "firing": "firing",
    "resolved": "resolved",
    "send_test": "Send test",
    "retry": "Retry",
    "retry_all_dead": "Retry all dead",
    "filter": "Filter",
    "state": "State",
    "any": "any",
    "id": "#",
    "title": "Title",
    "status": "Status",
    "accepted": "Accepted",
    "deliveries": "Deliveries",
    "attempts": "attempts: {n}",
    "last_error": "Last error",
    "sent_at": "Sent",
    "next_attempt": "next attempt",
    "no_notifications": "No notifications yet.",
    "newest": "Newest",
    "older": "Older",
    "notification": "Notification",
    "group_key": "Group key",
    "alerts": "Alerts",
    "labels": "Labels",
    "annotations": "Annotations",
    "started": "Started",
    "ended": "Ended",
    "source": "Source",
    "text": "Text sent",
    "text_note": "Made now by each channel's own formatter, as it sends it.",
    "no_preview": "No preview",
    "back": "Back",
    "done_retried": "Dead deliveries back to pending: {count}. The channels send them now.",
    "done_send_test": "Test notification accepted (firing now, resolved in a few seconds).",
    "links": "Links",
    "error": "Error",
}

KO: dict[str, str] = {
    "console": "브리지 콘솔",
    "overview": "개요",
    "notifications": "알림 메시지",
    "version": "버전",
    "store": "저장소",
    "uptime": "가동 시간",
    "language": "언어",
    "access": "접근",
    "access_token": "토큰 필요 (기본 인증: 사용자 이름은 아무것이나, 비밀번호는 토큰)",
    "access_open": "열림 (BRIDGE_AUTH_TOKEN 없음)",
    "read_only": "읽기 전용입니다. 여기서 재시도와 테스트 발송을 하려면 BRIDGE_AUTH_TOKEN을 설정하거나 "
    "--web.console-actions 옵션으로 브리지를 시작하세요.",
    "actions_open": "BRIDGE_AUTH_TOKEN 없이 작업이 켜져 있습니다. 브리지에 접속할 수 있는 누구나 사용할 수 있습니다.",
    "receivers": "리시버와 채널",
    "receiver": "리시버",
    "channel": "채널",
    "target": "대상",
    "pending": "대기",
    "sent": "전송됨",
    "dead": "최종 실패",
    "firing": "발생 중",
    "resolved": "해소됨",
    "send_test": "테스트 발송",
    "retry": "재시도",
    "retry_all_dead": "최종 실패 모두 재시도",
    "filter": "필터",
    "state": "상태",
    "any": "전체",
    "id": "#",
    "title": "제목",
    "status": "상태",
    "accepted": "접수",
    "deliveries": "전송",
    "attempts": "시도 {n}회",
    "last_error": "마지막 오류",
    "sent_at": "전송",
    "next_attempt": "다음 시도",
    "no_notifications": "아직 알림이 없습니다.",
    "newest": "최신",
    "older": "이전",
    "notification": "알림 메시지",
    "group_key": "그룹 키",
    "alerts": "알림",
    "labels": "레이블",
    "annotations": "어노테이션",
    "started": "시작",
    "ended": "종료",
    "source": "소스",
    "text": "보낸 내용",
    "text_note": "각 채널의 포맷터가 보낼 때와 똑같이 지금 만든 내용입니다.",
    "no_preview": "미리보기 없음",
    "back": "돌아가기",
    "done_retried": "최종 실패한 전송 {count}건을 다시 대기 상태로 돌렸습니다. 채널이 곧 보냅니다.",
    "done_send_test": "테스트 알림 메시지를 접수했습니다. 발생 중 알림 메시지를 지금, 해소 알림 메시지를 몇 초 뒤에 "
    "보냅니다.",
    "links": "링크",
    "error": "오류",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": EN, "ko": KO}

# Why a request was refused, by the `key` of its Rejected (allim/rejected.py), with the same placeholders as the
# English reason. English pages show the reason as raised; a key missing here shows it in English too.
REASONS_KO: dict[str, str] = {
    "console_token": "콘솔을 쓰려면 브리지의 토큰이 필요합니다. 사용자 이름은 아무것이나, "
    "비밀번호는 BRIDGE_AUTH_TOKEN입니다.",
    "wrong_token": "토큰이 없거나 틀립니다 (Authorization: Bearer <token>).",
    "actions_off": "작업이 꺼져 있습니다. BRIDGE_AUTH_TOKEN을 설정하거나 --web.console-actions 옵션"
    "(console_actions: true)으로 브리지를 시작하세요.",
    "cross_site": "다른 사이트의 페이지에서 온 요청이라 거부했습니다.",
    "form_token": "폼의 토큰이 없거나 틀립니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
    "form_expired": "폼이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
    "form_type": "콘솔 작업은 폼 POST(application/x-www-form-urlencoded)로만 보낼 수 있습니다.",
    "form_utf8": "폼이 UTF-8이 아닙니다.",
    "too_large": "본문이 {limit}바이트보다 큽니다.",
    "disconnected": "본문을 다 받기 전에 클라이언트 연결이 끊겼습니다.",
    "not_whole": "{name} 값은 0 이상의 정수여야 합니다.",
    "bad_state": "state 값은 {states} 중 하나여야 합니다.",
    "no_notification": "{notification}번 알림 메시지가 없습니다.",
    "no_delivery": "{notification}번 알림 메시지에는 {delivery}번 전송이 없습니다.",
    "nothing_dead": "{notification}번 알림 메시지에는 재시도할 최종 실패 전송이 없습니다.",
    "unknown_channel": "알 수 없는 채널: {channel!r}. 채널 이름({names}), 채널 키 또는 {all} 중 하나를 쓰세요.",
    "unknown_receiver": "알 수 없는 리시버: {receiver!r}. 설정된 리시버: {configured}",
    "outbox_closed": "아웃박스가 아직 열리지 않았습니다. 데이터베이스에 연결할 수 있는지 확인하세요.",
    "outbox_refused": "아웃박스가 알림 메시지를 받지 못했습니다: {detail}",
}
REASONS: dict[str, dict[str, str]] = {"en": {}, "ko": REASONS_KO}
# Why a delivery shows no preview, by the keys of bridge/previews.py's NOTES (which are the English).
NOTES: dict[str, dict[str, str]] = {
    "ko": {"unconfigured": "이제 설정에 없는 채널", "no_preview": "미리보기를 지원하지 않는 채널"}
}


def words(language: str) -> dict[str, str]:
    return LANGUAGES.get(language, EN)


def reason(refused: Rejected, language: str) -> str:
    """Why `refused` was refused, in `language` when its words have the reason's key; else the English reason."""
    template = REASONS.get(language, {}).get(refused.key)
    return template.format(**refused.values) if template else refused.reason
