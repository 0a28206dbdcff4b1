from __future__ import annotations

from pathlib import Path

import pytest

from allim.secret import Secret
from allim.settings import ConfigError, Settings, is_http_url, parse_duration


def test_settings_environment_wins_over_file() -> None:
    settings = Settings({"org": "from-file"}, {"SENTRY_ORG": "from-env"})
    assert settings.string("org", env="SENTRY_ORG") == "from-env"


def test_settings_empty_environment_variable_counts_as_unset() -> None:
    settings = Settings({"org": "from-file"}, {"SENTRY_ORG": ""})
    assert settings.string("org", env="SENTRY_ORG") == "from-file"


def test_settings_secret_from_file_and_env_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    assert Settings({"token_file": str(token_file)}, {}).secret("token") == Secret("s3cret")
    env_settings = Settings({}, {"API_TOKEN_FILE": str(token_file)})
    assert env_settings.secret("token", env="API_TOKEN") == Secret("s3cret")


def test_settings_secret_never_prints_its_value() -> None:
    secret = Settings({}, {"API_TOKEN": "s3cret"}).secret("token", env="API_TOKEN")
    assert secret is not None and secret.reveal() == "s3cret"
    assert "s3cret" not in repr(secret) and "s3cret" not in f"{secret}"


def test_settings_missing_secret_file_is_a_problem_without_the_content(tmp_path: Path) -> None:
    settings = Settings({"token_file": str(tmp_path / "nope")}, {}, path="sentry")
    assert settings.secret("token") is None
    with pytest.raises(ConfigError, match="sentry.token_file: cannot read"):
        settings.raise_if_problems()


def test_settings_numbers_are_bounded_and_typed() -> None:
    settings = Settings({"n": "x", "m": 500, "k": 0}, {}, path="s")
    assert settings.integer("n", 3) == 3
    assert settings.integer("m", 10, maximum=100) == 10
    assert settings.number("k", 1.0, minimum=0.5) == 1.0
    assert settings.problems == [
        "s.n: must be a whole number, got 'x'",
        "s.m: must be at most 100, got 500",
        "s.k: must be at least 0.5, got 0",
    ]


def test_settings_string_list_accepts_comma_separated_env() -> None:
    settings = Settings({}, {"EMAIL_TO": "a@x.test, b@x.test,"})
    assert settings.string_list("to", [], env="EMAIL_TO") == ["a@x.test", "b@x.test"]


def test_settings_required_and_choices() -> None:
    settings = Settings({"tls": "maybe"}, {}, path="smtp")
    settings.string("server", required=True, env="SMTP_SERVER")
    settings.string("tls", "starttls", choices=("starttls", "implicit", "none"))
    assert settings.problems == [
        "smtp.server: required (or environment variable SMTP_SERVER)",
        "smtp.tls: must be one of starttls, implicit, none, got 'maybe'",
    ]


def test_secret_matches_in_constant_time_and_never_empty() -> None:
    secret = Secret("s3cret")
    assert secret.matches("s3cret") and secret.matches(b"s3cret")
    assert not secret.matches("s3cre") and not secret.matches(None) and not secret.matches("")
    assert not Secret("").matches("")


@pytest.mark.parametrize(
    ("text", "seconds"), [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), (30, 30), ("45", 45)]
)
def test_settings_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("https://sentry.io", True),
        ("http://127.0.0.1:8080/api/", True),
        ("HTTPS://Example.com/x", True),
        ("ftp://example.com", False),
        ("https://", False),
        ("https:///path", False),
        ("example.com", False),
        ("https://exa mple.com", False),
        ("https://[::1", False),
        ("", False),
    ],
)
def test_settings_is_http_url(text: str, ok: bool) -> None:
    assert is_http_url(text) is ok


def test_settings_url_gives_the_default_and_names_the_origin_of_a_bad_value() -> None:
    settings = Settings({"api_base": "https://x.test/", "other": "nope", "blank": ""}, {"API_BASE": "ftp://y"}, "s")
    assert settings.url("api_base", "https://d.test", base=True) == "https://x.test"
    assert settings.url("api_base", "https://d.test") == "https://x.test/"
    assert settings.url("blank", "https://d.test") == "https://d.test"
    assert settings.url("other", "https://d.test") == "https://d.test"
    assert settings.url("api_base", None, env="API_BASE") is None
    settings.url("missing", required=True, env="MISSING_URL")
    assert settings.problems == [
        "s.other: must be an http(s) URL such as https://d.test, got 'nope'",
        "environment variable API_BASE: must be an http(s) URL, got 'ftp://y'",
        "s.missing: required (or environment variable MISSING_URL)",
    ]


def test_settings_secret_url_never_shows_the_value(tmp_path: Path) -> None:
    url_file = tmp_path / "hook"
    url_file.write_text("not-a-url-secret-xyz\n")
    settings = Settings({"webhook_url_file": str(url_file)}, {"HOOK_URL": "also-secret-abc"}, "d")
    assert settings.secret_url("webhook_url") is None
    assert settings.secret_url("webhook_url", env="HOOK_URL") is None
    good = Settings({"webhook_url": "https://discord.test/api/webhooks/1/tok"}, {}).secret_url("webhook_url")
    assert good is not None and good.reveal().endswith("/tok")
    assert settings.problems == [
        "d.webhook_url_file: must be an http(s) URL (the value is not shown: it holds a token)",
        "environment variable HOOK_URL: must be an http(s) URL (the value is not shown: it holds a token)",
    ]
    assert "secret" not in " ".join(settings.problems).replace("secret_url", "")
