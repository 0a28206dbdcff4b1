from __future__ import annotations

import logging

import pytest

from allim.redact import ANY_URL, MASK, TOKEN_PATTERNS, WEBHOOK_PATH_TOKEN, Redactor, redact_logs
from allim.secret import Secret


def test_redact_masks_secret_values_longest_first_and_skips_tiny_ones() -> None:
    redact = Redactor(["abcd", "abcdefgh", "xy", None, Secret("s3cret-value")])
    assert redact("abcdefgh abcd xy s3cret-value") == f"{MASK} {MASK} xy {MASK}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "POST https://discord.test/api/webhooks/123/tok-en?wait=true",
            "POST https://discord.test/api/webhooks/123/***?wait=true",
        ),
        ("GET http://x.test/webhooks/sentry?token=abc&x=1", "GET http://x.test/webhooks/sentry?token=***&x=1"),
        ("GET http://x.test/?a=1&api_key=k3y", "GET http://x.test/?a=1&api_key=***"),
        ("https://user:pa55@host.test/path", "https://user:***@host.test/path"),
        ("http://host.test:8080/path", "http://host.test:8080/path"),
    ],
)
def test_redact_token_patterns(text: str, expected: str) -> None:
    assert Redactor(patterns=TOKEN_PATTERNS)(text) == expected


def test_redact_any_url_after_the_webhook_token() -> None:
    redact = Redactor(patterns=(WEBHOOK_PATH_TOKEN, ANY_URL))
    assert (
        redact("failed: https://discord.test/api/webhooks/1/t see /webhooks/1/t") == "failed: [url] see /webhooks/1/***"
    )


def test_redact_logs_filters_a_logger_once(caplog: pytest.LogCaptureFixture) -> None:
    name = "tests.allim.redact"
    redact = Redactor(["super-secret"], patterns=TOKEN_PATTERNS)
    redact_logs(redact, [name])
    redact_logs(Redactor(["super-secret"], patterns=TOKEN_PATTERNS), [name])
    logger = logging.getLogger(name)
    assert len(logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=name):
        logger.info("HTTP Request: POST %s %s", "https://d.test/api/webhooks/1/tok", "super-secret")
    assert caplog.records[0].getMessage() == f"HTTP Request: POST https://d.test/api/webhooks/1/*** {MASK}"
    logger.filters.clear()
