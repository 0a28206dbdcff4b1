from __future__ import annotations

import json
import logging

from allim.logs import JsonFormatter, LogfmtFormatter


def record(msg: str, **extra: object) -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "exporter", "levelno": logging.WARNING, "levelname": "WARNING", "msg": msg})
    rec.__dict__.update(extra)
    return rec


def test_logs_logfmt_quotes_values_and_joins_lists() -> None:
    line = LogfmtFormatter().format(
        record('poll "failed"', source="sentry", sources=["host", "ga4"], color_message="x")
    )
    assert line.split(" ", 1)[1] == 'level=warn logger=exporter msg="poll \\"failed\\"" source=sentry sources=host,ga4'


def test_logs_json_is_one_object_per_line() -> None:
    line = JsonFormatter().format(record("poll failed", source="sentry"))
    data = json.loads(line)
    assert (data["level"], data["msg"], data["source"]) == ("warn", "poll failed", "sentry")
    assert "\\n" not in line
