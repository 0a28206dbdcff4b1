"""Refusing untrusted input, free of any web framework: `Rejected` and the JSON body parsers that raise it.

Kept apart from `allim.requests` (which needs Starlette) so that the exporter's sources can refuse a webhook
payload without importing a web framework; `allim.requests` re-exports all of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class Rejected(Exception):
    """A request refused with `status` and the one-line `reason` sent back to the caller.

    `key` and `values` name the reason for a page that says it in the reader's language (the bridge console looks
    the key up in its words and fills in the values); the API and the logs keep the English `reason`."""

    def __init__(self, status: int, reason: str, *, key: str = "", values: Mapping[str, object] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.key = key
        self.values = dict(values or {})


def refusal(status: int, key: str, reason: str, **values: object) -> Rejected:
    """A Rejected whose English `reason` is a template filled with `values`, named `key` for other languages."""
    return Rejected(status, reason.format(**values), key=key, values=values)


def parse_json(body: bytes) -> Any:
    """The decoded body; 400 when it is not JSON (or not UTF-8)."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise Rejected(400, "body is not valid JSON: not UTF-8") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The decoded body, which must be a JSON object (400 otherwise)."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise Rejected(400, f"body must be a JSON object, got {type(data).__name__}")
    return data
