"""Logging in the Prometheus style: logfmt (default) or JSON lines on stderr."""

from __future__ import annotations

import json
import logging
import sys
import time

from allim.redact import HTTP_LOGGERS, TOKEN_PATTERNS, Redactor, redact_logs

LEVELS = ("debug", "info", "warn", "error")
FORMATS = ("logfmt", "json")

# Record attributes that are not extras; uvicorn adds `color_message`, an ANSI-coloured copy of msg.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"color_message", "message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _logfmt_value(value: object) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple | set) else str(value)
    if text == "" or any(c in text for c in ' ="\\\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def _fields(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, object]:
    """ts, level, logger, msg, then the record's extras, then a formatted exception if any."""
    fields: dict[str, object] = {
        "ts": _timestamp(record),
        "level": record.levelname.lower().replace("warning", "warn"),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    fields.update(_extras(record))
    if record.exc_info:
        fields["err"] = formatter.formatException(record.exc_info)
    return fields


class LogfmtFormatter(logging.Formatter):
    """`ts=... level=info logger=exporter msg="..." key=value` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(self, record).items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(self, record), default=str, ensure_ascii=False)


def setup_logging(level: str = "info", fmt: str = "logfmt") -> None:
    """Route every logger (ours, uvicorn's, httpx's) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level == "warn" else getattr(logging, level.upper()))
    # httpx logs every request URL at INFO, and URLs can carry tokens: keep it quiet, and mask tokens in
    # whatever the HTTP stack does log.
    redact_logs(Redactor(patterns=TOKEN_PATTERNS), HTTP_LOGGERS)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
