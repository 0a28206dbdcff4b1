from __future__ import annotations

from pathlib import Path

import pytest

from allim.secret import Secret
from allim.settings import ConfigError, Settings


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
