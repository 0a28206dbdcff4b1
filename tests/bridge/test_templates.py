"""Receiver templates: the wording they give Discord and mail, the check at start, and the fallback when one fails."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
import yaml

from allim.secret import Secret
from allim.settings import ConfigError
from bridge import templates
from bridge.app import create_app
from bridge.channels.discord.config import DiscordConfig
from bridge.channels.discord.format import discord_messages
from bridge.channels.email import format as mail
from bridge.channels.email.config import EmailConfig
from bridge.config import Formatting, Templates
from bridge.load import config_from_mapping
from tests.bridge.helpers import eventually, start_with_config
from tests.bridge.sample_alerts import alert, notification, payload
from tests.deploy.support import alert_rules
from tests.fakes.discord import FakeDiscord, payload_errors, running
from tests.support import REPO

DISCORD = DiscordConfig(webhook_url=Secret("http://127.0.0.1/api/webhooks/1/t"))
MAIL = EmailConfig(host="127.0.0.1", port=25, from_addr="a@x.test", to=("b@x.test",))
# The README's two examples, verbatim.
COMPACT = Templates(
    title="{{ '✅' if alert.status == 'resolved' else '🔥' }} {{ alert.alertname }} · "
    "{{ alert.subject or '?' }} · {{ alert.value or alert.severity }}",
    description="{{ alert.text.summary }}",
)
KOREAN = Templates(
    title="[{{ '해소' if alert.status == 'resolved' else '장애' }}] {{ alert.text.summary or alert.alertname }}",
    description=(
        "발생: {{ alert.starts_at }}{% if alert.status == 'resolved' %} · 해소: {{ alert.ends_at }}{% endif %}\n"
        "{{ alert.text.description }}"
    ),
    email_subject=(
        "[{{ notification.receiver }}] {{ alerts | selectattr('status', 'eq', 'firing') | list | length }}건 발생"
        " · {{ notification.group_labels.alertname }}"
    ),
)
DISK_LABELS = {"instance": "web-1", "mountpoint": "/var", "device": "/dev/sdb1", "fstype": "xfs"}


def _rendered(text: str) -> str:
    """An annotation of the shipped rule as Prometheus renders it for DISK_LABELS and a value of 0.93."""
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: DISK_LABELS[m.group(1)], text)
    text = text.replace("{{ $value | humanizePercentage }}", "93%")
    assert "{{" not in text, text
    return text


# HostDiskAlmostFull's summary and description, both languages, from the shipped rule (deploy/prometheus/rules/
# host.yml): the README's Korean example quotes them, so a change to the rule shows here.
DISK = {
    key: _rendered(value)
    for rule in alert_rules()
    if rule["alert"] == "HostDiskAlmostFull"
    for key, value in rule["annotations"].items()
    if key.startswith(("summary", "description"))
}


def test_templates_readme_examples_are_the_ones_tested_here() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    receivers = yaml.safe_load(next(b for b in blocks if "team-kr" in b))["receivers"]
    assert Templates(**receivers["compact"]["templates"]) == COMPACT
    assert Templates(**receivers["team-kr"]["templates"]) == KOREAN
    sources = [source for t in (COMPACT, KOREAN) for source in vars(t).values() if source]
    assert len(sources) == 5 and all(templates.syntax_problem(source) is None for source in sources)


def with_templates(**sources: str) -> Formatting:
    return Formatting(templates=Templates(**sources))


def test_templates_compact_title_and_description_in_discord() -> None:
    firing = notification(alert(labels={"mountpoint": "/var"}, annotations={"summary": "Disk almost full on web-1"}))
    sentry = alert(
        "SentryNewIssue",
        severity="warning",
        labels={"project": "shop", "job": "allim-exporter", "instance": "exporter:8877"},
        annotations={"value": "3"},
    )
    resolved = notification(alert(status="resolved"))
    [message] = discord_messages(firing, replace(Formatting(), templates=COMPACT), DISCORD)
    [embed] = message["embeds"]
    assert embed["title"] == "🔥 HostDiskAlmostFull · web-1 /var · 93%"
    assert embed["description"] == "Disk almost full on web-1"
    assert embed["fields"][0] == {"name": "Status", "value": "firing", "inline": True}  # the rest is built in
    [project] = discord_messages(notification(sentry), replace(Formatting(), templates=COMPACT), DISCORD)
    assert project["embeds"][0]["title"] == "🔥 SentryNewIssue · shop · 3"
    [done] = discord_messages(resolved, replace(Formatting(), templates=COMPACT), DISCORD)
    assert done["embeds"][0]["title"] == "✅ HostDiskAlmostFull · web-1 · 93%"
    assert done["embeds"][0]["color"] == 0x2EB67D


def test_templates_korean_wording_in_mail_and_discord() -> None:
    fmt = replace(Formatting(language="ko", timezone="Asia/Seoul"), templates=KOREAN)
    group = notification(
        alert(annotations=DISK),
        alert(status="resolved", labels={"instance": "web-2"}, annotations={"summary": "Disk almost full"}),
    )
    message = mail.build_message(group, MAIL, fmt)
    assert message["Subject"] == "[ops] 1건 발생 · HostDiskAlmostFull"
    text = message.get_body(("plain",)).get_content()
    assert (
        "[장애] web-1의 파일 시스템 /var 사용률 90% 초과\n발생: 2026-01-01 19:00:00 KST\n"
        "web-1의 /var(/dev/sdb1, xfs) 사용률이 93%입니다.\n상태: 발생 중\n"
    ) in text
    # a rule without Korean annotations: its English text, per key
    assert (
        "[해소] Disk almost full\n발생: 2026-01-01 19:00:00 KST · 해소: 2026-01-01 19:30:00 KST\n상태: 해소됨\n" in text
    )
    [discord] = discord_messages(group, fmt, DISCORD)
    assert [e["title"] for e in discord["embeds"]] == [
        "[장애] web-1의 파일 시스템 /var 사용률 90% 초과",
        "[해소] Disk almost full",
    ]
    for readme in ("README.md", "README.ko.md"):  # the title both READMEs quote is the shipped rule's
        assert "`[장애] web-1의 파일 시스템 /var 사용률 90% 초과`" in (REPO / readme).read_text(encoding="utf-8"), (
            readme
        )


def test_templates_html_mail_escapes_what_a_template_writes() -> None:
    fmt = with_templates(title="<b>{{ alert.labels.team }}</b>", description="{{ alert.annotations.summary }}")
    hostile = notification(alert(labels={"team": "<script>x</script>"}, annotations={"summary": "<img src=x>"}))
    body = mail.build_message(hostile, MAIL, fmt).get_body(("html",)).get_content()
    assert "<script>" not in body and "<img" not in body and "<b>&lt;" not in body
    assert "&lt;b&gt;&lt;script&gt;x&lt;/script&gt;&lt;/b&gt;" in body and "&lt;img src=x&gt;" in body


def test_templates_subject_is_one_line_and_titles_fit_discord() -> None:
    fmt = with_templates(
        email_subject="{{ alerts[0].labels.instance }}\r\nBcc: victim@example.test",
        title="{{ alert.labels.instance * 3 }}",
        description="{% for i in range(500) %}{{ alert.annotations.summary }} {% endfor %}",
    )
    group = notification(alert(labels={"instance": "é" * 200}))
    message = mail.build_message(group, MAIL, fmt)
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"] and message["Bcc"] is None
    assert message["Subject"].endswith("Bcc: victim@example.test")
    for body in discord_messages(group, fmt, DISCORD):
        assert payload_errors(body) == []
        assert len(body["embeds"][0]["title"]) == 256 and body["embeds"][0]["title"].endswith("…")


def test_templates_blank_title_or_subject_keeps_the_built_in_one() -> None:
    fmt = with_templates(title="{% if false %}x{% endif %}", email_subject="  ")
    group = notification(alert())
    assert discord_messages(group, fmt, DISCORD)[0]["embeds"][0]["title"] == "[CRITICAL] HostDiskAlmostFull — web-1"
    assert mail.subject(group, fmt) == "[CRITICAL] HostDiskAlmostFull — web-1"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{{ alert.nothing + 1 }}", "UndefinedError"),  # an undefined value used as a number
        ("{{ alert.__class__.__mro__ }}", "SecurityError"),  # the sandbox
        ("{{ 'x' * 1000000000 }}", "SecurityError"),  # a memory bomb
        ("{{ 1 // 0 }}", "ZeroDivisionError"),
        ("{{ '%d' | format(alert.alertname) }}", "TypeError"),  # a filter that raises
    ],
)
def test_templates_runtime_failure_falls_back_and_is_counted_once(
    source: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    counted: list[str] = []
    fmt = replace(
        with_templates(title=source, description=source, email_subject=source), on_template_error=counted.append
    )
    group = notification(alert(), alert(labels={"instance": "web-2"}))
    caplog.set_level(logging.WARNING, logger="bridge.templates")
    [message] = discord_messages(group, fmt, DISCORD)
    assert [e["title"] for e in message["embeds"]] == [
        "[CRITICAL] HostDiskAlmostFull — web-1",
        "[CRITICAL] HostDiskAlmostFull — web-2",
    ]
    assert message["embeds"][0]["description"] == "Disk almost full"
    [warning] = caplog.records
    assert warning.getMessage() == "template failed, the built-in text is used"
    assert (warning.receiver, warning.templates, warning.failed) == ("ops", "description,title", 4)  # type: ignore[attr-defined]
    assert warning.err.startswith(f"title: {error}")  # type: ignore[attr-defined]
    assert counted == ["ops"]
    caplog.clear()
    mailed = mail.build_message(group, MAIL, fmt)  # the subject, then both bodies from one rendering
    assert mailed["Subject"] == "[CRITICAL] HostDiskAlmostFull — web-1 (+1 more)"
    assert len(caplog.records) == 2 and counted == ["ops"] * 3


def test_templates_context_holds_what_the_readme_lists() -> None:
    source = (
        "{{ alert.labels.job }}|{{ alert.annotations.value }}|{{ alert.status }}|{{ alert.severity }}|"
        "{{ alert.alertname }}|{{ alert.starts_at }}|{{ alert.ends_at }}|{{ alert.value }}|{{ alert.generator_url }}|"
        "{{ notification.receiver }}|{{ notification.status }}|{{ notification.group_labels.alertname }}|"
        "{{ notification.common_labels.team }}|{{ notification.common_annotations.summary }}|"
        "{{ notification.external_url }}"
    )
    group = notification(
        alert(status="resolved", severity="high"), commonLabels={"team": "ops"}, commonAnnotations={"summary": "s"}
    )
    [message] = discord_messages(group, with_templates(description=source), DISCORD)
    assert message["embeds"][0]["description"] == (
        "node|93%|resolved|high|HostDiskAlmostFull|2026-01-01 10:00:00 UTC|2026-01-01 10:30:00 UTC|93%|"
        "http://prometheus:9090/graph?g0.expr=disk_free+%3C+0.1&g0.tab=1|ops|resolved|HostDiskAlmostFull|ops|s|"
        "http://alertmanager:9093"
    )


def test_templates_text_is_each_annotation_in_the_receivers_language() -> None:
    source = (
        "{{ alert.text.summary }}|{{ alert.text.description }}|{{ alert.value }}|{{ alert.annotations.summary }}|"
        "{{ alert.subject }}|{{ alert.host }}"
    )
    annotations = {"summary_ko": "디스크 부족", "description": "no Korean here", "value_ko": "93퍼센트"}
    group = notification(alert(annotations=annotations))
    ko = replace(with_templates(description=source), language="ko")
    assert discord_messages(group, ko, DISCORD)[0]["embeds"][0]["description"] == (
        "디스크 부족|no Korean here|93퍼센트|Disk almost full|web-1|web-1"
    )
    english = discord_messages(group, with_templates(description=source), DISCORD)
    assert english[0]["embeds"][0]["description"] == "Disk almost full|no Korean here|93%|Disk almost full|web-1|web-1"


def test_templates_that_do_not_parse_are_listed_at_load() -> None:
    data = {
        "receivers": {
            "ops": {"templates": {"title": "{{ alert.alertname }", "description": "ok {{ alert.value }}"}},
            "team-kr": {"templates": {"email_subject": "{% if %}", "subject": "typo"}},
        }
    }
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, {})
    assert info.value.problems == [
        "receivers.ops.templates.title: template does not parse: unexpected '}' (line 1)",
        "receivers.team-kr.templates.email_subject: template does not parse: Expected an expression, got 'end of"
        " statement block' (line 1)",
        "receivers.team-kr.templates.subject: unknown key",
    ]
    del data["receivers"]["team-kr"]
    data["receivers"]["ops"]["templates"]["title"] = "{{ alert.alertname }}"
    loaded = config_from_mapping(data, {}).receivers["ops"].formatting.templates
    assert loaded == Templates(title="{{ alert.alertname }}", description="ok {{ alert.value }}")


def test_templates_parse_error_exits_2_naming_receiver_and_key(tmp_path) -> None:
    result = start_with_config('receivers:\n  ops:\n    templates: {title: "{{ alert.alertname"}\n', tmp_path)
    assert result.returncode == 2
    assert "receivers.ops.templates.title: template does not parse" in result.stderr


def test_templates_syntax_problem_is_none_for_a_good_template() -> None:
    assert templates.syntax_problem("{{ alert.labels.instance | upper }}") is None


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with running(FakeDiscord()) as fake:
        yield fake


async def test_templates_broken_at_runtime_still_deliver_and_count(tmp_path, discord: FakeDiscord) -> None:
    data = {
        "data_dir": str(tmp_path / "data"),
        "receivers": {
            "ops": {
                "discord": [{"webhook_url": discord.url()}],
                "templates": {"title": "{{ alert.labels.missing.deeper }}", "description": "{{ 1 + alert.nope }}"},
            },
            "plain": {"discord": [{"webhook_url": discord.url()}]},
        },
    }
    app = create_app(config_from_mapping(data, {}))
    metrics = app.state.bridge.metrics.registry
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
            assert metrics.get_sample_value("allim_bridge_template_errors_total", {"receiver": "ops"}) == 0
            assert metrics.get_sample_value("allim_bridge_template_errors_total", {"receiver": "plain"}) is None
            assert (await client.post("/alertmanager/ops", json=payload())).status_code == 200
            await eventually(lambda: len(discord.messages) == 1, what="the notification delivered")
            exposition = (await client.get("/metrics")).text
    assert discord.messages[0]["embeds"][0]["title"] == "[CRITICAL] HostDiskAlmostFull — web-1"
    assert discord.messages[0]["embeds"][0]["description"] == "Disk almost full"
    assert 'allim_bridge_template_errors_total{receiver="ops"} 1.0' in exposition
