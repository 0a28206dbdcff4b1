"""Every shipped alert, firing and resolved, through the bridge's Discord and mail formats in Korean and English.

The alerts are the ones the promtool tests expect (deploy/prometheus/tests/*.test.yml): labels and annotations as
Prometheus renders the shipped rules, proved exact by `promtool test rules` (tests/deploy/test_rules.py). They are
read from the files, so an alert added to the rules is checked here without editing this test; an alert without a
promtool case fails test_shipped_alerts_every_rule_has_a_rendered_case.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from allim.secret import Secret
from bridge.alertmanager import notification_from_webhook
from bridge.channels.discord.config import DiscordConfig
from bridge.channels.discord.format import discord_messages
from bridge.channels.email import format as mail
from bridge.channels.email.config import EmailConfig
from bridge.config import Formatting
from bridge.messages import words
from bridge.notification import Notification
from tests.bridge.english import english_sentences, has_hangul
from tests.deploy.support import RULE_TESTS_DIR, alert_rules

DISCORD = DiscordConfig(webhook_url=Secret("http://127.0.0.1/api/webhooks/1/t"))
MAIL = EmailConfig(host="127.0.0.1", port=25, from_addr="allim@example.test", to=("oncall@example.test",))
FORMATS = {"ko": Formatting(language="ko", timezone="Asia/Seoul"), "en": Formatting()}
STARTED = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
LASTED = timedelta(minutes=47, seconds=12)
DURATION = {"ko": "47분 12초", "en": "47m 12s"}
# Alerts about a project, a monitor or a property, scraped from the exporter: `instance` is never their host.
NOT_ABOUT_A_HOST = ("Sentry", "HetrixTools", "Ga4")
RECEIVER = "critical"


@dataclass(frozen=True)
class Case:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]

    def __str__(self) -> str:
        subject = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()) if k not in ("alertname", "job"))
        return f"{self.name}[{subject}]"


def promtool_cases() -> list[Case]:
    """Every expected alert of every promtool test file, once per distinct label set."""
    found: dict[str, Case] = {}
    for path in sorted(RULE_TESTS_DIR.glob("*.test.yml")):
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in test.get("alert_rule_test", []):
                for expected in check.get("exp_alerts") or []:
                    labels = {"alertname": check["alertname"], **{k: str(v) for k, v in expected["exp_labels"].items()}}
                    annotations = {k: str(v) for k, v in (expected.get("exp_annotations") or {}).items()}
                    case = Case(check["alertname"], labels, annotations)
                    found.setdefault(str(case), case)
    return list(found.values())


CASES = promtool_cases()


def webhook(case: Case, status: str) -> Notification:
    """Alertmanager's body for the alert (a resolved one keeps its last annotations, as Prometheus sends them)."""
    ended = STARTED + LASTED if status == "resolved" else None
    alert = {
        "status": status,
        "labels": case.labels,
        "annotations": case.annotations,
        "startsAt": STARTED.isoformat(),
        "endsAt": ended.isoformat() if ended else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up&g0.tab=1",
        "fingerprint": "f" * 16,
    }
    return notification_from_webhook(
        {
            "version": "4",
            "status": status,
            "receiver": RECEIVER,
            "groupKey": f'{{}}:{{alertname="{case.name}"}}',
            "groupLabels": {"alertname": case.name},
            "externalURL": "http://alertmanager:9093",
            "alerts": [alert],
        }
    )


@dataclass(frozen=True)
class Rendered:
    """One alert as each channel shows it: the Discord embed, the mail's subject, text and HTML (as text)."""

    embed: dict[str, Any]
    subject: str
    text: str
    html: str

    def fields(self) -> list[tuple[str, str]]:
        return [(f["name"], f["value"]) for f in self.embed["fields"]]

    def mail_rows(self) -> list[tuple[str, str]]:
        return [tuple(line.split(": ", 1)) for line in self.text.splitlines() if ": " in line]  # type: ignore[misc]

    def html_rows(self) -> list[tuple[str, str]]:
        return [
            (html.unescape(n), html.unescape(v))
            for n, v in re.findall(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td>", self.html)
        ]

    def html_text(self) -> str:
        return html.unescape(re.sub(r"<[^>]+>", " ", self.html))


def render(case: Case, status: str, language: str) -> Rendered:
    notification, fmt = webhook(case, status), FORMATS[language]
    [message] = discord_messages(notification, fmt, DISCORD)
    [embed] = message["embeds"]
    built = mail.build_message(notification, MAIL, fmt)
    text = built.get_body(("plain",)).get_content()
    body = built.get_body(("html",)).get_content()
    return Rendered(embed, str(built["Subject"]), text, body)


def names(case: Case) -> list[str]:
    """What the English-sentence check leaves alone: label keys and values, the receiver's name."""
    return [*case.labels, *case.labels.values(), RECEIVER]


def test_shipped_alerts_every_rule_has_a_rendered_case() -> None:
    rules = {rule["alert"] for rule in alert_rules()}
    with_case = {case.name for case in CASES if case.annotations}
    assert rules - with_case == set(), "alerts without a promtool case that spells out their annotations"
    without_korean = sorted({c.name for c in CASES if not {"summary_ko", "description_ko"} <= set(c.annotations)})
    assert without_korean == []


@pytest.mark.parametrize("status", ["firing", "resolved"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_shipped_alerts_read_in_korean_without_an_english_sentence(case: Case, status: str) -> None:
    shown = render(case, status, "ko")
    description = shown.embed.get("description", "")
    assert has_hangul(description), f"no Korean in {description!r}"
    leftovers = {
        "title": english_sentences(shown.embed["title"], names(case)),
        "description": english_sentences(description, names(case)),
        "fields": english_sentences("\n".join(f"{n}: {v}" for n, v in shown.fields()), names(case)),
        "subject": english_sentences(shown.subject, names(case)),
        "mail text": english_sentences(shown.text, names(case)),
        "mail html": english_sentences(shown.html_text(), names(case)),
    }
    assert {part: found for part, found in leftovers.items() if found} == {}


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("status", ["firing", "resolved"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_shipped_alerts_state_status_and_duration_in_every_channel(case: Case, status: str, language: str) -> None:
    w = words(language)
    shown = render(case, status, language)
    for where, rows in (
        ("discord", shown.fields()),
        ("mail text", shown.mail_rows()),
        ("mail html", shown.html_rows()),
    ):
        assert (w["status"], w[status]) in rows, where
        if status == "resolved":
            assert (w["fired_for"], DURATION[language]) in rows, where
            assert w["value"] not in dict(rows), f"{where}: a resolved alert shows its firing value as current"
        else:
            assert w["fired_for"] not in dict(rows), where
    picked = case.annotations.get(f"value_{language}") or case.annotations.get("value")
    value_name = w["last_value" if status == "resolved" else "value"]
    assert (value_name, picked) in shown.fields() and (value_name, picked) in shown.mail_rows()


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_shipped_alerts_name_the_right_where(case: Case, language: str) -> None:
    w = words(language)
    shown = render(case, "firing", language)
    instance = case.labels.get("instance", "")
    for where, rows in (
        ("discord", shown.fields()),
        ("mail text", shown.mail_rows()),
        ("mail html", shown.html_rows()),
    ):
        hosts = [value for name, value in rows if name == w["host"]]
        if case.name.startswith(NOT_ABOUT_A_HOST):
            assert hosts == [], f"{where}: {case.name} is about a project, monitor or property, not a host"
            assert instance not in shown.embed["title"]
            if instance:
                assert (w["scrape_target"], instance) in rows, f"{where}: the scrape target is still shown"
        elif case.name.startswith("Host"):
            assert hosts == [instance], f"{where}: a host alert names its host"
    for label, key in (("mountpoint", "mountpoint"), ("location", "location")):
        if case.labels.get(label):
            assert (w[key], case.labels[label]) in shown.fields()
    if case.name == "HetrixToolsMonitorDown":
        assert (w["value"], {"ko": "오프라인", "en": "offline"}[language]) in shown.fields()


def test_shipped_alerts_checker_finds_the_english_of_every_alert() -> None:
    """The Korean check can fail: the English rendering of each alert trips it, in its description at least."""
    missed = []
    for case in CASES:
        shown = render(case, "firing", "en")
        if not english_sentences(shown.embed.get("description", ""), names(case)):
            missed.append(str(case))
    assert missed == []


def test_shipped_alerts_checker_catches_a_rule_without_korean() -> None:
    """A `ko` receiver given a rule without `*_ko` annotations gets English (the fallback): the check says so."""
    case = next(c for c in CASES if c.name == "HetrixToolsMonitorDown")
    english_only = Case(case.name, case.labels, {k: v for k, v in case.annotations.items() if not k.endswith("_ko")})
    shown = render(english_only, "firing", "ko")
    assert english_sentences(shown.embed["description"], names(english_only))
    assert english_sentences(shown.text, names(english_only))
