"""The README's Discord and mail examples are what the bridge renders for the same alerts (`…` in the README marks
where a long value is cut for the page; it matches any text)."""

from __future__ import annotations

import json
import re
from typing import Any

from allim.secret import Secret
from bridge.alertmanager import notification_from_webhook
from bridge.channels.discord.config import DiscordConfig
from bridge.channels.discord.format import discord_messages
from bridge.channels.email import format as mail
from bridge.channels.email.config import EmailConfig
from bridge.config import Formatting
from tests.markdown import Document
from tests.support import REPO

README = Document.read(REPO / "README.md")
NOT_ENDED = "0001-01-01T00:00:00Z"
# HetrixToolsMonitorDown for a monitor "Shop", annotated as deploy/prometheus/rules/hetrixtools.yml renders it.
SHOP_DOWN = {
    "labels": {
        "alertname": "HetrixToolsMonitorDown",
        "severity": "critical",
        "job": "allim-exporter",
        "instance": "exporter:8877",
        "monitor_id": "m1",
        "monitor_name": "Shop",
        "monitor_type": "http",
        "target": "https://shop.example.com/",
    },
    "annotations": {
        "summary": "Shop is down",
        "summary_ko": "Shop 모니터 오프라인",
        "description": "HetrixTools reports http monitor Shop (https://shop.example.com/) as offline.",
        "description_ko": (
            "HetrixTools가 http 모니터 Shop(https://shop.example.com/)의 상태를 오프라인으로 보고했습니다."
        ),
        "value": "offline",
        "value_ko": "오프라인",
        "runbook_url": "https://github.com/allim/allim/blob/main/README.md#hetrixtoolsmonitordown",
    },
    "generatorURL": "http://prometheus:9090/graph?g0.expr=hetrixtools_monitor_up+%3D%3D+0&g0.tab=1",
}


def readme_block(marker: str) -> str:
    [block] = [b for b in README.code_blocks if marker in b]
    return "\n".join(block.splitlines()[1:-1])  # without the fences


def matches(shown: Any, rendered: Any) -> bool:
    """`shown` (from the README) equals `rendered`, a string with `…` matching any text."""
    if isinstance(shown, dict):
        return isinstance(rendered, dict) and shown.keys() == rendered.keys()
    if isinstance(shown, list):
        return isinstance(rendered, list)  # compared item by item in differences()
    if isinstance(shown, str) and "…" in shown and isinstance(rendered, str):
        pattern = ".*?".join(re.escape(part) for part in shown.split("…"))
        return re.fullmatch(pattern, rendered, re.S) is not None
    return bool(shown == rendered)


def differences(shown: Any, rendered: Any, path: str = "") -> list[str]:
    if not matches(shown, rendered):
        return [f"{path or 'body'}: README {shown!r}, rendered {rendered!r}"]
    if isinstance(shown, dict):
        return [d for key in shown for d in differences(shown[key], rendered[key], f"{path}.{key}")]
    if isinstance(shown, list):
        if len(shown) != len(rendered):
            return [f"{path}: README has {len(shown)} items, rendered {len(rendered)}"]
        return [
            d for i, (a, b) in enumerate(zip(shown, rendered, strict=True)) for d in differences(a, b, f"{path}[{i}]")
        ]
    return []


def alert(base: dict[str, Any], starts: str, ends: str = NOT_ENDED, **labels: str) -> dict[str, Any]:
    status = "firing" if ends == NOT_ENDED else "resolved"
    merged = {**base, "labels": {**base["labels"], **labels}, "status": status, "startsAt": starts, "endsAt": ends}
    return {**merged, "fingerprint": merged["labels"].get("instance", "")}


def test_format_examples_discord_in_korean_is_what_the_bridge_sends() -> None:
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "critical",
        "groupKey": '{}:{alertname="HetrixToolsMonitorDown"}',
        "groupLabels": {"alertname": "HetrixToolsMonitorDown", "monitor_id": "m1"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert(SHOP_DOWN, "2026-01-01T10:00:00Z")],
    }
    config = DiscordConfig(
        webhook_url=Secret("http://127.0.0.1/api/webhooks/1/t"), mention_role_id="112233445566778899"
    )
    [message] = discord_messages(
        notification_from_webhook(body), Formatting(language="ko", timezone="Asia/Seoul"), config
    )
    assert differences(json.loads(readme_block('"username": "allim"')), message) == []


def disk(instance: str, mountpoint: str, device: str, value: str) -> dict[str, Any]:
    """HostDiskAlmostFull from node_exporter's job, annotated as deploy/prometheus/rules/host.yml renders it."""
    return {
        "labels": {
            "alertname": "HostDiskAlmostFull",
            "severity": "high",
            "job": "node",
            "instance": instance,
            "mountpoint": mountpoint,
            "device": device,
            "fstype": "ext4",
        },
        "annotations": {
            "summary": f"Filesystem {mountpoint} above 90% on {instance}",
            "description": f"{mountpoint} ({device}, ext4) on {instance} is {value} full.",
            "value": value,
            "runbook_url": "https://github.com/allim/allim/blob/main/README.md#hostdiskalmostfull",
        },
        "generatorURL": "http://prometheus:9090/graph?g0.expr=host_filesystem_usage_ratio+%3E+0.9&g0.tab=1",
    }


def test_format_examples_mail_is_what_the_bridge_sends() -> None:
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "ops",
        "groupKey": '{}:{alertname="HostDiskAlmostFull"}',
        "groupLabels": {"alertname": "HostDiskAlmostFull"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            alert(disk("web-2:9100", "/data", "/dev/sdb1", "91%"), "2026-01-01T09:12:48Z", "2026-01-01T10:00:00Z"),
            alert(disk("web-1:9100", "/", "/dev/sda1", "93%"), "2026-01-01T10:00:00Z"),
        ],
    }
    config = EmailConfig(host="127.0.0.1", port=25, from_addr="allim@example.test", to=("oncall@example.test",))
    built = mail.build_message(notification_from_webhook(body), config, Formatting(timezone="Asia/Seoul"))
    headers, text = readme_block("X-Allim-Receiver: ops").split("\n\n", 1)
    shown = dict(line.split(": ", 1) for line in headers.splitlines())
    for name in ("Subject", "In-Reply-To", "References", "Auto-Submitted", "List-Id", "X-Allim-Receiver"):
        assert shown[name] == built[name], name
    assert matches(text + "\n", built.get_body(("plain",)).get_content())
