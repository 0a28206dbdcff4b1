"""Reading YAML config merged with environment variables, collecting every problem with its key path.

Both services validate their whole configuration once at start. A `Settings` reads one mapping; each
accessor returns a usable value (the default when the entry is bad) and records what was wrong, so the
caller can report every problem in a single `ConfigError` instead of stopping at the first.
Environment variables win over the file, so a `.env` can override a checked-in config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from allim.secret import Secret

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """Every problem found in a configuration, one per line."""

    def __init__(self, problems: list[str], origin: str = "configuration") -> None:
        self.problems = problems
        lines = [f"invalid {origin} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def read_yaml_file(path: str | None) -> dict[str, Any]:
    """The config file as a mapping ({} without a file); a ConfigError when it is unreadable or not a mapping."""
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {' '.join(str(exc).split())}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping, got {type(data).__name__}"])
    return data


def is_http_url(text: str) -> bool:
    """An absolute http:// or https:// URL with a host name and no whitespace: the one check for URLs in config."""
    if not text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(host)


def parse_duration(value: object) -> float:
    """Seconds from a number or a Prometheus-style duration ("90s", "1m30s", "500ms")."""
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if not _DURATION.match(text):
        raise ValueError("not a duration")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


class Settings:
    """One mapping of the config, its key path, the environment, and the shared list of problems."""

    def __init__(
        self,
        data: Mapping[str, Any],
        env: Mapping[str, str],
        path: str = "",
        problems: list[str] | None = None,
    ) -> None:
        self.data = data
        self.env = env
        self.path = path
        self.problems: list[str] = [] if problems is None else problems
        self._read: set[str] = set()

    # -- structure -------------------------------------------------------------------------
    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.key_path(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def section(self, key: str) -> Settings:
        self._read.add(key)
        raw = self.data.get(key)
        if raw is None:
            raw = {}
        elif not isinstance(raw, Mapping):
            self.problem(key, f"must be a mapping, got {type(raw).__name__}")
            raw = {}
        return Settings(raw, self.env, self.key_path(key), self.problems)

    def check_unknown(self) -> None:
        """Report keys nobody read: almost always a typo that would otherwise be silently ignored."""
        for key in self.data:
            if key not in self._read:
                self.problem(str(key), "unknown key")

    def raise_if_problems(self, origin: str = "configuration") -> None:
        if self.problems:
            raise ConfigError(self.problems, origin)

    def _raw(self, key: str, env: str | None) -> tuple[Any, str]:
        """The value and where it came from; the environment wins over the file, empty means unset."""
        self._read.add(key)
        if env and self.env.get(env, "") != "":
            return self.env[env], f"environment variable {env}"
        return self.data.get(key), self.key_path(key)

    def _where_problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # -- scalar accessors ------------------------------------------------------------------
    def string(
        self,
        key: str,
        default: str | None = None,
        *,
        env: str | None = None,
        choices: tuple[str, ...] | None = None,
        required: bool = False,
    ) -> str | None:
        value, where = self._raw(key, env)
        if value is None:
            if required:
                hint = f" (or environment variable {env})" if env else ""
                self._where_problem(self.key_path(key), f"required{hint}")
            return default
        if isinstance(value, dict | list):
            self._where_problem(where, f"must be a string, got {type(value).__name__}")
            return default
        text = str(value).strip()
        if choices is not None and text not in choices:
            self._where_problem(where, f"must be one of {', '.join(choices)}, got {text!r}")
            return default
        return text

    def secret(self, key: str, *, env: str | None = None, required: bool = False) -> Secret | None:
        """A credential from `env`, `<env>_FILE`, `key` or `<key>_file` (a path whose content is the secret)."""
        return self._secret(key, env, required)[0]

    def _secret(self, key: str, env: str | None, required: bool) -> tuple[Secret | None, str]:
        """The secret and where it came from (for a message that must name the place but never the value)."""
        self._read.update({key, f"{key}_file"})
        if env and self.env.get(env, ""):
            return Secret(self.env[env].strip()), f"environment variable {env}"
        file_sources = [(self.env.get(f"{env}_FILE", ""), f"environment variable {env}_FILE")] if env else []
        file_sources.append((self.data.get(f"{key}_file") or "", self.key_path(f"{key}_file")))
        for file_path, where in file_sources:
            if file_path:
                try:
                    return Secret(Path(str(file_path)).read_text(encoding="utf-8").strip()), where
                except OSError as exc:
                    self._where_problem(where, f"cannot read {file_path}: {exc.strerror}")
                    return None, where
        value = self.data.get(key)
        if value not in (None, ""):
            return Secret(str(value).strip()), self.key_path(key)
        if required:
            hint = f" (or environment variable {env})" if env else ""
            self.problem(key, f"required, or {key}_file{hint}")
        return None, self.key_path(key)

    def url(
        self,
        key: str,
        default: str | None = None,
        *,
        env: str | None = None,
        required: bool = False,
        base: bool = False,
    ) -> str | None:
        """An http(s) URL (checked by `is_http_url`); empty counts as unset. `base`: an API base URL, returned
        without a trailing slash so paths can be appended. A bad value is a problem and gives the default."""
        value, where = self._raw(key, env)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                hint = f" (or environment variable {env})" if env else ""
                self._where_problem(self.key_path(key), f"required{hint}")
            return default
        text = value.strip() if isinstance(value, str) else value
        if not isinstance(text, str) or not is_http_url(text):
            example = f" such as {default}" if default else ""
            self._where_problem(where, f"must be an http(s) URL{example}, got {text!r}")
            return default
        return text.rstrip("/") if base else text

    def secret_url(self, key: str, *, env: str | None = None, required: bool = False) -> Secret | None:
        """An http(s) URL that holds a credential (a Discord webhook URL): read like `secret`, checked like
        `url`, and never shown in a message."""
        secret, where = self._secret(key, env, required)
        if secret is None:
            return None
        if not is_http_url(secret.reveal()):
            self._where_problem(where, "must be an http(s) URL (the value is not shown: it holds a token)")
            return None
        return secret

    def number(
        self,
        key: str,
        default: float,
        *,
        env: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value, where = self._raw(key, env)
        if value is None:
            return default
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            self._where_problem(where, f"must be a number, got {value!r}")
            return default
        return self._bounded(where, number, default, minimum, maximum)

    def integer(
        self,
        key: str,
        default: int,
        *,
        env: str | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value, where = self._raw(key, env)
        if value is None:
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(str(value).strip()) if not isinstance(value, int | float) else int(value)
        except (TypeError, ValueError):
            self._where_problem(where, f"must be a whole number, got {value!r}")
            return default
        return int(self._bounded(where, number, default, minimum, maximum))

    def duration(self, key: str, default: float, *, env: str | None = None, minimum: float | None = None) -> float:
        """Seconds, from a number or a Prometheus-style duration string such as "90s" or "1m"."""
        value, where = self._raw(key, env)
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError:
            self._where_problem(where, f"must be a duration like 30s, 5m or a number of seconds, got {value!r}")
            return default
        return self._bounded(where, seconds, default, minimum, None)

    def boolean(self, key: str, default: bool, *, env: str | None = None) -> bool:
        value, where = self._raw(key, env)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self._where_problem(where, f"must be true or false, got {value!r}")
        return default

    def string_list(self, key: str, default: list[str], *, env: str | None = None) -> list[str]:
        """A YAML list of strings, or a comma-separated string (the form environment variables take)."""
        value, where = self._raw(key, env)
        if value is None:
            return list(default)
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
            self._where_problem(where, "must be a list of strings")
            return list(default)
        return [str(v) for v in value]

    def checked(self, key: str, default: str, check: Callable[[str], str | None], *, env: str | None = None) -> str:
        """A string `check` accepts (it returns what is wrong, or None); a rejected one is a problem reported where
        the value came from, and gives the default."""
        value, where = self._raw(key, env)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, dict | list):
            self._where_problem(where, f"must be a string, got {type(value).__name__}")
            return default
        text = str(value).strip()
        problem = check(text)
        if problem:
            self._where_problem(where, problem)
            return default
        return text

    def pattern(self, key: str, default: str | None, *, env: str | None = None) -> re.Pattern[str] | None:
        """A regular expression, checked to compile."""
        text = self.string(key, default, env=env)
        if text is None:
            return None
        try:
            return re.compile(text)
        except re.error as exc:
            self.problem(key, f"not a valid regular expression: {exc}")
            return re.compile(default) if default is not None else None

    def _bounded(self, where: str, value: float, default: float, minimum: float | None, maximum: float | None) -> float:
        if minimum is not None and value < minimum:
            self._where_problem(where, f"must be at least {minimum:g}, got {value:g}")
            return default
        if maximum is not None and value > maximum:
            self._where_problem(where, f"must be at most {maximum:g}, got {value:g}")
            return default
        return value
