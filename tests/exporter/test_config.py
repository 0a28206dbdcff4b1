from __future__ import annotations

from pathlib import Path

import pytest

from allim.settings import ConfigError
from exporter.config import config_from_mapping, load_config


def test_config_defaults_need_no_keys() -> None:
    config = load_config(None, {})
    assert config.enabled == ["host"]
    host = config.sources["host"]
    assert (host.interval, host.max_age) == (15, 45)


def test_config_reads_yaml_file_with_durations(tmp_path: Path) -> None:
    path = tmp_path / "allim.yml"
    path.write_text("host:\n  interval: 1m\n  timeout: 10s\n  max_age: 5m\n")
    host = load_config(str(path), {}).sources["host"]
    assert (host.interval, host.timeout, host.max_age) == (60, 10, 300)


def test_config_host_can_be_switched_off() -> None:
    config = config_from_mapping({"host": {"enabled": False}}, {})
    assert config.enabled == []


def test_config_error_lists_every_problem_at_once() -> None:
    data = {
        "host": {"interval": "soon", "enabled": "perhaps", "mountpoints_exclude": "([", "colour": "blue"},
        "hots": {},
    }
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(data, {})
    message = str(caught.value)
    assert "5 problems" in message
    assert "host.interval: must be a duration" in message
    assert "host.enabled: must be true or false, got 'perhaps'" in message
    assert "host.mountpoints_exclude: not a valid regular expression" in message
    assert "host.colour: unknown key" in message
    assert "hots: unknown key" in message


def test_config_status_page_language_and_zone_as_the_bridge_reads_them() -> None:
    assert (load_config(None, {}).language, load_config(None, {}).timezone) == ("en", "UTC")
    korean = load_config(None, {"ALLIM_LANGUAGE": "ko", "ALLIM_TIMEZONE": "Asia/Seoul"})
    assert (korean.language, korean.timezone) == ("ko", "Asia/Seoul")
    assert config_from_mapping({"language": "ko", "timezone": "Asia/Seoul"}, {}).timezone == "Asia/Seoul"
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"ALLIM_LANGUAGE": "fr", "ALLIM_TIMEZONE": "Mars/Olympus"})
    assert "environment variable ALLIM_LANGUAGE: must be one of en, ko, got 'fr'" in str(caught.value)
    assert "timezone: unknown time zone 'Mars/Olympus'" in str(caught.value)


def test_config_timeout_above_interval_is_a_problem() -> None:
    with pytest.raises(ConfigError, match="host.timeout: must not exceed the interval"):
        config_from_mapping({"host": {"interval": 5, "timeout": 10}}, {})


def test_config_unreadable_or_invalid_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.yml"), {})
    bad = tmp_path / "bad.yml"
    bad.write_text("host: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad), {})
    listed = tmp_path / "list.yml"
    listed.write_text("- host\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(str(listed), {})
