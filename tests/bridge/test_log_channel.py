"""LogChannel: one JSON line per notification on stdout."""

from __future__ import annotations

import json

import pytest

from bridge.channels.log import LogChannel
from bridge.config import Formatting
from tests.bridge.sample_alerts import alert, notification


async def test_log_channel_writes_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    channel = LogChannel(Formatting())
    assert channel.name == "log" and channel.target == "log:stdout"
    await channel.send(notification(alert(severity="warning"), alert(status="resolved", labels={"note": "a\nb"})))
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    record = json.loads(out)
    assert record["title"] == "[WARNING] HostDiskAlmostFull — web-1 (+1 more)"
    assert record["severity"] == "warning" and record["status"] == "firing" and record["receiver"] == "ops"
    assert [a["status"] for a in record["alerts"]] == ["firing", "resolved"]
    assert record["alerts"][1] == {
        "title": "[RESOLVED] HostDiskAlmostFull — web-1",
        "status": "resolved",
        "severity": "critical",
        "summary": "Disk almost full",
        "starts_at": "2026-01-01T10:00:00.510000+00:00",
        "ends_at": "2026-01-01T10:30:00+00:00",
    }


async def test_log_channel_keeps_korean_readable(capsys: pytest.CaptureFixture[str]) -> None:
    korean = {"summary_ko": "디스크 거의 가득 참"}
    group = notification(alert(annotations=korean), alert(labels={"instance": "web-2"}))
    await LogChannel(Formatting(language="ko")).send(group)
    out = capsys.readouterr().out
    assert "외 1건" in out and json.loads(out)["title"].endswith("(외 1건)")
    assert [a["summary"] for a in json.loads(out)["alerts"]] == ["디스크 거의 가득 참", "Disk almost full"]
