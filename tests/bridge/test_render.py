"""Our alert format: titles, subjects, mail bodies and Discord payloads, in English and Korean."""

from __future__ import annotations

import logging

import pytest

from allim.secret import Secret
from bridge import view
from bridge.channels.discord import format as embeds
from bridge.channels.discord.config import DiscordConfig
from bridge.channels.discord.format import discord_messages
from bridge.channels.email import format as mail
from bridge.config import Formatting
from tests.bridge.sample_alerts import alert, many, notification
from tests.fakes.discord import payload_errors

EN = Formatting()
KO = Formatting(language="ko", timezone="Asia/Seoul", dashboard_url="https://grafana.example/d/allim")
CONFIG = DiscordConfig(webhook_url=Secret("http://127.0.0.1/api/webhooks/1/t"))
HOSTILE = {"instance": "web-1\r\nBcc: victim@example.test", "team": "@everyone <@123> <script>alert(1)</script>"}


def test_title_names_alert_and_most_identifying_label() -> None:
    firing = notification(alert(labels={"project": "shop"})).alerts[0]
    resolved = notification(alert(status="resolved")).alerts[0]
    assert view.title(firing, EN) == "[CRITICAL] HostDiskAlmostFull — shop"
    assert view.title(resolved, EN) == "[RESOLVED] HostDiskAlmostFull — web-1"


def test_title_falls_back_to_summary_and_puts_host_before_mountpoint() -> None:
    bare = notification({**alert(), "labels": {"alertname": "Watchdog", "severity": "info"}}).alerts[0]
    disk = notification(alert(labels={"mountpoint": "/var"})).alerts[0]
    assert view.title(bare, EN) == "[INFO] Watchdog — Disk almost full"
    assert view.title(disk, EN) == "[CRITICAL] HostDiskAlmostFull — web-1 /var"


def test_email_subject_counts_other_and_truncated_alerts() -> None:
    group = notification(
        alert(severity="warning", labels={"instance": "web-2"}), alert(), alert(severity="info"), truncatedAlerts=2
    )
    assert mail.subject(group, EN) == "[CRITICAL] HostDiskAlmostFull — web-1 (+4 more)"
    assert mail.subject(group, KO) == "[CRITICAL] HostDiskAlmostFull — web-1 (외 4건)"
    assert mail.subject(notification(alert()), EN) == "[CRITICAL] HostDiskAlmostFull — web-1"


def test_email_subject_strips_control_characters() -> None:
    subject = mail.subject(notification(alert(labels=HOSTILE)), EN)
    assert "\r" not in subject and "\n" not in subject
    assert subject == "[CRITICAL] HostDiskAlmostFull — web-1 Bcc: victim@example.test"


def test_email_subject_stays_short_for_long_labels() -> None:
    subject = mail.subject(notification(alert(labels={"instance": "x" * 5000}), alert()), EN)
    assert len(subject) < 220 and subject.endswith("… (+1 more)")


def test_text_body_golden_english() -> None:
    body = mail.text_body(notification(alert(annotations={"runbook_url": "https://runbooks.example/disk"})), EN)
    assert body == (
        "1 firing, 0 resolved\n"
        "\n"
        "[CRITICAL] HostDiskAlmostFull — web-1\n"
        "Disk almost full\n"
        "Status: firing\n"
        "Severity: critical\n"
        "Value: 93%\n"
        "Host: web-1\n"
        "Started: 2026-01-01 10:00:00 UTC\n"
        "Labels: job=node\n"
        "Runbook: https://runbooks.example/disk\n"
        "Query: http://prometheus:9090/graph?g0.expr=disk_free+%3C+0.1&g0.tab=1\n"
        "Silence: http://alertmanager:9093/#/silences/new?filter="
        "%7Balertname%3D%22HostDiskAlmostFull%22%2Cinstance%3D%22web-1%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D\n"
        "\n"
        "-- \n"
        "allim · ops\n"
    )


def test_text_body_golden_korean_in_seoul_time() -> None:
    korean = {"summary_ko": "디스크 거의 가득 참", "description_ko": "/var 사용률 93%", "value_ko": "93퍼센트"}
    resolved = alert(status="resolved", annotations=korean)
    body = mail.text_body(notification(resolved), KO)
    assert body == (
        "발생 중 0건, 해소됨 1건\n"
        "\n"
        "[RESOLVED] HostDiskAlmostFull — web-1\n"
        "디스크 거의 가득 참\n"
        "/var 사용률 93%\n"
        "상태: 해소됨\n"
        "심각도: 긴급\n"
        "발생 중 마지막 값: 93퍼센트\n"
        "호스트: web-1\n"
        "시작: 2026-01-01 19:00:00 KST\n"
        "종료: 2026-01-01 19:30:00 KST\n"
        "지속 시간: 29분 59초\n"
        "레이블: job=node\n"
        "대시보드: https://grafana.example/d/allim\n"
        "쿼리: http://prometheus:9090/graph?g0.expr=disk_free+%3C+0.1&g0.tab=1\n"
        "\n"
        "-- \n"
        "allim · ops\n"
    )


def test_text_body_links_sentry_issue_and_notes_truncated_alerts() -> None:
    group = notification(alert(labels={"sentry_issue_url": "https://sentry.example/issues/42/"}), truncatedAlerts=3)
    body = mail.text_body(group, EN)
    assert "Sentry issue: https://sentry.example/issues/42/\n" in body
    assert (
        "Alertmanager left out 3 more alerts of this group (max_alerts). The whole group is in Alertmanager's UI: "
        "http://alertmanager:9093/#/alerts?filter=%7Balertname%3D%22HostDiskAlmostFull%22%7D\n"
    ) in body


def test_html_body_escapes_every_value() -> None:
    hostile = alert(
        labels=HOSTILE,
        annotations={
            "summary": "<b>bold</b>",
            "description": "<img src=x onerror=alert(1)>",
            "runbook_url": "javascript:alert(1)",
        },
    )
    body = mail.html_body(notification(hostile), EN)
    assert "<script>" not in body and "<img" not in body and "<b>bold" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;bold&lt;/b&gt;" in body
    assert "javascript:" not in body


def test_html_body_links_and_colours_by_severity() -> None:
    body = mail.html_body(notification(alert(severity="warning"), alert(status="resolved")), KO)
    assert "border-left:4px solid #ecb22e" in body and "border-left:4px solid #2eb67d" in body
    assert '<a href="http://prometheus:9090/graph?g0.expr=disk_free+%3C+0.1&amp;g0.tab=1">쿼리</a>' in body
    assert "<td>2026-01-01 19:00:00 KST</td>" in body


def test_discord_messages_one_coloured_embed_per_alert() -> None:
    group = notification(alert(), alert(severity="high"), alert(severity="warning"), alert(severity="info"))
    group_resolved = notification(alert(status="resolved"))
    [message] = discord_messages(group, EN, CONFIG)
    assert [e["color"] for e in message["embeds"]] == [0xE01E5A, 0xF2711C, 0xECB22E, 0x3B82F6]
    assert discord_messages(group_resolved, EN, CONFIG)[0]["embeds"][0]["color"] == 0x2EB67D
    assert message["allowed_mentions"] == {"parse": []} and "content" not in message
    assert message["username"] == "allim"


def test_discord_messages_embed_golden_korean() -> None:
    [message] = discord_messages(notification(alert(labels={"project": "shop"})), KO, CONFIG)
    [embed] = message["embeds"]
    assert embed["title"] == "[CRITICAL] HostDiskAlmostFull — shop"
    assert embed["description"] == "Disk almost full"
    assert embed["footer"] == {"text": "allim · ops"}
    assert [(f["name"], f["value"]) for f in embed["fields"][:7]] == [
        ("상태", "발생 중"),
        ("심각도", "긴급"),
        ("값", "93%"),
        ("프로젝트", "shop"),
        ("스크레이프 대상", "web-1"),  # a project's alert: its instance is where it was scraped, not a host
        ("시작", "2026-01-01 19:00:00 KST"),
        ("레이블", "job=node"),
    ]
    links = embed["fields"][7]
    assert links["name"] == "링크" and links["value"].startswith(
        "[대시보드](https://grafana.example/d/allim) · [쿼리]("
    )
    assert (
        "[사일런스](http://alertmanager:9093/#/silences/new?filter=%7Balertname%3D%22HostDiskAlmostFull%22"
        in links["value"]
    )


def test_discord_messages_mention_role_only_for_critical_firing() -> None:
    config = DiscordConfig(webhook_url=CONFIG.webhook_url, mention_role_id="987654321")
    [critical] = discord_messages(notification(alert()), EN, config)
    [warning] = discord_messages(notification(alert(severity="warning")), EN, config)
    [resolved] = discord_messages(notification(alert(status="resolved")), EN, config)
    assert critical["content"] == "<@&987654321>"
    assert critical["allowed_mentions"] == {"parse": [], "roles": ["987654321"]}
    for message in (warning, resolved):
        assert "content" not in message and message["allowed_mentions"] == {"parse": []}


def test_discord_messages_keep_alert_text_out_of_content() -> None:
    config = DiscordConfig(webhook_url=CONFIG.webhook_url, mention_role_id="1")
    hostile = alert(labels=HOSTILE, annotations={"summary": "@everyone @here <@123> <@&1>"})
    for message in discord_messages(notification(hostile), EN, config):
        assert message["content"] == "<@&1>"
        assert message["allowed_mentions"] == {"parse": [], "roles": ["1"]}
        assert "\r" not in message["embeds"][0]["title"]


@pytest.mark.parametrize("name", ["Discord Alerts", "my-DISCORD-bot", "", "Clyde"])
def test_discord_messages_replace_rejected_usernames(name: str) -> None:
    config = DiscordConfig(webhook_url=CONFIG.webhook_url, username=name)
    assert discord_messages(notification(), EN, config)[0]["username"] == "allim"


@pytest.mark.parametrize("count", [1, 10, 11, 25, 300])
def test_discord_messages_split_within_every_limit(count: int) -> None:
    messages = discord_messages(many(count), EN, CONFIG)
    assert sum(len(m["embeds"]) for m in messages) == count
    assert len(messages) >= -(-count // 10)
    for message in messages:
        assert payload_errors(message) == []


@pytest.mark.parametrize("size", [100, 1100, 4097, 10_000])
@pytest.mark.parametrize("count", [1, 3, 12])
def test_discord_messages_truncate_long_text(size: int, count: int) -> None:
    long = "é" * size
    labels = {f"label_{i:02d}": long for i in range(30)} | {"project": long, "instance": long, "location": long}
    annotations = {"summary": long, "description": "😀" * size, "value": long, "runbook_url": "https://r/" + "x" * size}
    group = many(count, labels=labels, annotations=annotations)
    messages = discord_messages(group, KO, DiscordConfig(webhook_url=CONFIG.webhook_url, username=long))
    assert sum(len(m["embeds"]) for m in messages) == count
    for message in messages:
        assert payload_errors(message) == []
        assert sum(embeds.embed_length(e) for e in message["embeds"]) <= embeds.EMBED_TOTAL


def test_discord_messages_log_a_warning_when_truncating(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bridge")
    discord_messages(notification(alert(annotations={"description": "x" * 5000})), EN, CONFIG)
    assert [r.getMessage() for r in caplog.records] == ["discord payload truncated to fit Discord's limits"]
    caplog.clear()
    discord_messages(notification(), EN, CONFIG)
    assert caplog.records == []


def test_discord_messages_truncated_alerts_noted_in_content() -> None:
    [message] = discord_messages(notification(truncatedAlerts=7), KO, CONFIG)
    assert message["content"] == (
        "Alertmanager가 이 그룹의 알림 7건을 생략했습니다 (max_alerts). "
        "그룹 전체는 Alertmanager UI에서 볼 수 있습니다: http://alertmanager:9093/#/alerts?filter=%7Balertname%3D%22HostDiskAlmostFull%22%7D"
    )
    [no_link] = discord_messages(notification(truncatedAlerts=7, externalURL=""), KO, CONFIG)
    assert no_link["content"].endswith("그룹 전체는 Alertmanager UI의 Alerts 화면에서 볼 수 있습니다.")
    assert message["allowed_mentions"] == {"parse": []}


def test_embeds_clip_counts_utf16_units() -> None:
    cut: list[str] = []
    assert embeds.clip("😀" * 10, 5, cut, "x") == "😀😀…"
    assert embeds.clip("abc", 3, cut, "y") == "abc" and cut == ["x"]
