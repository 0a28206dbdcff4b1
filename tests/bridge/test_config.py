import subprocess
from dataclasses import dataclass
from typing import ClassVar

import httpx
import pytest

from allim.secret import Secret
from allim.settings import ConfigError, Settings
from bridge.channels import Attempt, ChannelType
from bridge.channels.discord.config import DiscordConfig
from bridge.channels.email.config import EmailConfig
from bridge.channels.registry import CHANNELS
from bridge.load import config_from_mapping, load_config
from bridge.notification import Notification
from bridge.receivers import build_channels
from tests.bridge.helpers import start_with_config
from tests.support import REPO, python_module

DISCORD = "https://discord.com/api/webhooks/123/secret-token-abc"


def test_config_env_only_gives_a_default_receiver_with_every_channel(tmp_path):
    (tmp_path / "pw").write_text("smtp-pass\n")
    env = {
        "DISCORD_WEBHOOK_URL": DISCORD,
        "SMTP_SERVER": "smtp.example.com",
        "SMTP_USERNAME": "bridge",
        "SMTP_PASSWORD_FILE": str(tmp_path / "pw"),
        "SMTP_FROM": "allim@example.com",
        "EMAIL_TO": "ops@example.com, dev@example.com",
        "BRIDGE_AUTH_TOKEN": "tok-123456",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "ALLIM_LANGUAGE": "ko",
        "ALLIM_TIMEZONE": "Asia/Seoul",
    }
    config = config_from_mapping({}, env)
    default = config.receivers["default"]
    assert default.of(DiscordConfig)[0].webhook_url.reveal() == DISCORD
    email = default.of(EmailConfig)[0]
    assert (email.host, email.port, email.tls) == ("smtp.example.com", 587, "starttls")
    assert email.to == ("ops@example.com", "dev@example.com")
    assert email.password.reveal() == "smtp-pass" and email.username == "bridge"
    assert (default.formatting.language, default.formatting.timezone) == ("ko", "Asia/Seoul")
    assert config.auth_token.reveal() == "tok-123456"
    assert config.outbox.path == tmp_path / "data" / "outbox.sqlite3"
    assert config.dedup_window == 300
    assert set(config.secrets()) == {DISCORD, "smtp-pass", "tok-123456"}


def test_config_without_channels_still_has_a_default_receiver():
    config = config_from_mapping({}, {})
    assert config.receivers["default"].of(DiscordConfig) == () and config.receivers["default"].of(EmailConfig) == ()
    assert config.auth_token is None


def test_config_implicit_tls_defaults_to_port_465():
    env = {"SMTP_SERVER": "mx", "SMTP_FROM": "a@x", "EMAIL_TO": "b@x", "SMTP_TLS": "implicit"}
    assert config_from_mapping({}, env).receivers["default"].of(EmailConfig)[0].port == 465


def test_config_yaml_receivers_with_several_channels(tmp_path):
    path = tmp_path / "bridge.yml"
    path.write_text(
        """
dedup_window: 2m
smtp: {server: mx.example.com, from: allim@example.com, tls: none}
outbox: {max_pending: 50, delivery_deadline: 1h}
receivers:
  critical:
    timezone: Asia/Seoul
    discord:
      - webhook_url: https://discord.com/api/webhooks/1/a
        mention_role_id: "42"
      - webhook_url: https://discord.com/api/webhooks/2/b
    email:
      - to: [oncall@example.com]
"""
    )
    config = load_config(str(path), {"DISCORD_WEBHOOK_URL": DISCORD})
    critical = config.receivers["critical"]
    assert [d.mention_role_id for d in critical.of(DiscordConfig)] == ["42", None]
    assert critical.of(EmailConfig)[0].port == 25 and critical.formatting.timezone == "Asia/Seoul"
    assert config.receivers["default"].of(DiscordConfig)[0].webhook_url.reveal() == DISCORD
    assert (config.dedup_window, config.outbox.max_pending, config.outbox.delivery_deadline) == (120, 50, 3600)


def test_config_reports_every_problem_at_once():
    data = {
        "receivers": {"bad name!": {}, "ops": {"discord": [{"mention_role_id": "x"}], "email": [{"to": ["nope"]}]}},
        "outbox": {"max_pending": 0, "typo": 1},
    }
    env = {
        "ALLIM_LANGUAGE": "fr",
        "ALLIM_TIMEZONE": "Mars/Olympus",
        "SMTP_TLS": "ssl",
        "EMAIL_TO": "ops@example.com",
        "DISCORD_WEBHOOK_URL": "not-a-url-secret-xyz",
    }
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, env)
    text = str(info.value)
    for expected in (
        "ALLIM_LANGUAGE",
        "unknown time zone 'Mars/Olympus'",
        "SMTP_TLS",
        "receivers.bad name!",
        "receivers.ops.discord[0].webhook_url: required",
        "receivers.ops.discord[0].mention_role_id",
        "'nope' is not an email address",
        "environment variable EMAIL_TO: recipients are set but no SMTP server",
        "environment variable DISCORD_WEBHOOK_URL: must be an http(s) URL",
        "outbox.max_pending",
        "outbox.typo: unknown key",
    ):
        assert expected in text, expected
    assert "not-a-url-secret-xyz" not in text
    assert len(info.value.problems) >= 11


def test_config_error_exits_2_with_every_problem(tmp_path):
    env = {"ALLIM_LANGUAGE": "fr", "SMTP_TLS": "ssl", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        python_module("bridge", "--web.listen-address", "nope"),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--web.listen-address" in result.stderr and "ALLIM_LANGUAGE" in result.stderr and "SMTP_TLS" in result.stderr


def test_config_receivers_name_environment_channels() -> None:
    env = {
        "DISCORD_WEBHOOK_URL": "https://discord.test/api/webhooks/1/token",
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_FROM": "alerts@example.test",
        "EMAIL_TO": "oncall@example.test",
    }
    data = {"receivers": {"critical": {"channels": ["discord", "email"]}, "watchdog": {"channels": ["log"]}}}
    config = config_from_mapping(data, env)
    critical = config.receivers["critical"]
    assert [d.webhook_url.reveal() for d in critical.of(DiscordConfig)] == [env["DISCORD_WEBHOOK_URL"]]
    assert [e.to for e in critical.of(EmailConfig)] == [("oncall@example.test",)]
    assert (config.receivers["watchdog"].of(DiscordConfig), config.receivers["watchdog"].of(EmailConfig)) == ((), ())
    assert len(config.receivers["default"].of(DiscordConfig)) == 1


def test_config_named_channel_missing_from_environment_is_left_out_with_a_warning(caplog) -> None:
    data = {"receivers": {"critical": {"channels": ["discord", "email"]}}}
    with caplog.at_level("WARNING"):
        config = config_from_mapping(data, {"DISCORD_WEBHOOK_URL": "https://discord.test/api/webhooks/1/t"})
    assert (len(config.receivers["critical"].of(DiscordConfig)), config.receivers["critical"].of(EmailConfig)) == (
        1,
        (),
    )
    assert [r.channel for r in caplog.records] == ["email"]


def test_config_unknown_named_channel_is_a_problem() -> None:
    with pytest.raises(ConfigError, match=r"receivers.ops.channels: unknown channel 'slack'"):
        config_from_mapping({"receivers": {"ops": {"channels": ["slack"]}}}, {})


def test_config_shipped_bridge_yml_is_valid() -> None:
    config = load_config(str(REPO / "deploy" / "bridge" / "bridge.yml"), {})
    assert {"critical", "default", "watchdog"} <= set(config.receivers)


def test_config_discord_username_and_role_are_validated_at_load() -> None:
    data = {"receivers": {"ops": {"discord": [{"webhook_url": DISCORD, "username": "Clyde Bot"}]}}}
    env = {"DISCORD_WEBHOOK_URL": DISCORD, "DISCORD_MENTION_ROLE_ID": "ops-role"}
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, env)
    assert 'receivers.ops.discord[0].username: Discord rejects usernames containing "clyde"' in info.value.problems
    assert "mention_role_id: must be a Discord role id (digits)" in info.value.problems
    with pytest.raises(ValueError, match="mention_role_id"):
        DiscordConfig(webhook_url=Secret(DISCORD), mention_role_id="<@&1>")


async def test_config_registry_names_agree_with_configs_and_channels() -> None:
    env = {"DISCORD_WEBHOOK_URL": DISCORD, "SMTP_SERVER": "mx", "SMTP_FROM": "a@x", "EMAIL_TO": "b@x"}
    receiver = config_from_mapping({}, env).receivers["default"]
    assert [c.channel for c in receiver.channels] == ["discord", "email"] and set(CHANNELS) >= {"discord", "email"}
    async with httpx.AsyncClient() as client:
        assert [c.name for c in build_channels(receiver, client)] == [c.channel for c in receiver.channels]


@dataclass(frozen=True)
class PagerConfig:
    channel: ClassVar[str] = "pager"
    key: Secret

    def secrets(self) -> tuple[Secret, ...]:
        return (self.key,)


class PagerLoader:
    env_hint = "PAGER_KEY"

    def __init__(self, root: Settings) -> None:
        pass

    def from_env(self, env: Settings) -> PagerConfig | None:
        key = env.secret("key", env="PAGER_KEY")
        return PagerConfig(key) if key else None

    def from_item(self, item: Settings) -> PagerConfig | None:
        key = item.secret("key", required=True)
        return PagerConfig(key) if key else None


@dataclass
class PagerChannel:
    config: PagerConfig
    name: str = "pager"
    target: str = "pager:***"

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        pass


async def test_config_a_channel_added_to_the_registry_is_read_named_and_built() -> None:
    registry = {**CHANNELS, "pager": ChannelType(PagerLoader, lambda config, fmt, client: PagerChannel(config))}
    data = {
        "receivers": {"ops": {"channels": ["pager", "discord"], "pager": [{"key": "k-yaml"}]}, "bad": {"pager": {}}}
    }
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, {"PAGER_KEY": "k-env"}, registry)
    assert info.value.problems == ["receivers.bad.pager[0].key: required, or key_file"]
    del data["receivers"]["bad"]
    config = config_from_mapping(data, {"PAGER_KEY": "k-env", "DISCORD_WEBHOOK_URL": DISCORD}, registry)
    receiver = config.receivers["ops"]
    assert [c.key.reveal() for c in receiver.of(PagerConfig)] == ["k-env", "k-yaml"]
    assert set(config.secrets()) == {"k-env", "k-yaml", DISCORD}
    async with httpx.AsyncClient() as client:
        assert [c.name for c in build_channels(receiver, client, registry)] == ["discord", "pager", "pager"]


def test_config_discord_on_resolve_thread_and_forum() -> None:
    data = {
        "receivers": {
            "ops": {
                "discord": [
                    {"webhook_url": DISCORD, "on_resolve": "edit", "forum": True},
                    {"webhook_url": DISCORD, "thread_id": 1122334455667788990},
                ]
            }
        }
    }
    config = config_from_mapping(data, {"DISCORD_WEBHOOK_URL": DISCORD, "DISCORD_ON_RESOLVE": "edit"})
    forum, thread = config.receivers["ops"].of(DiscordConfig)
    assert (forum.on_resolve, forum.forum, forum.thread_id) == ("edit", True, None)
    assert (thread.on_resolve, thread.forum, thread.thread_id) == ("new", False, "1122334455667788990")
    assert config.receivers["default"].of(DiscordConfig)[0].on_resolve == "edit"


def test_config_discord_thread_id_with_forum_and_bad_values_are_problems() -> None:
    data = {
        "receivers": {
            "ops": {
                "discord": [
                    {"webhook_url": DISCORD, "thread_id": "123", "forum": True},
                    {"webhook_url": DISCORD, "thread_id": "general", "forum": "maybe", "on_resolve": "delete"},
                ]
            }
        }
    }
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data, {"DISCORD_ON_RESOLVE": "later"})
    assert info.value.problems == [
        "environment variable DISCORD_ON_RESOLVE: must be one of new, edit, got 'later'",
        "receivers.ops.discord[0].thread_id: thread_id and forum: true cannot be used together (Discord refuses a"
        " thread id with a new post's name)",
        "receivers.ops.discord[1].on_resolve: must be one of new, edit, got 'delete'",
        "receivers.ops.discord[1].thread_id: must be a Discord thread id (digits)",
        "receivers.ops.discord[1].forum: must be true or false, got 'maybe'",
    ]
    with pytest.raises(ValueError, match="cannot be used together"):
        DiscordConfig(webhook_url=Secret(DISCORD), thread_id="1", forum=True)


def test_config_discord_thread_id_with_forum_exits_2(tmp_path) -> None:
    entry = f'{{webhook_url: "{DISCORD}", thread_id: "1", forum: true}}'
    result = start_with_config(f"receivers:\n  ops:\n    discord:\n      - {entry}\n", tmp_path)
    assert result.returncode == 2 and "thread_id and forum: true cannot be used together" in result.stderr
    assert "secret-token-abc" not in result.stderr
