"""Email (SMTP) settings: the value and how bridge.yml or the environment give it, validated here once.

    smtp:                        # shared by every email channel; or SMTP_SERVER, SMTP_PORT, SMTP_TLS, ...
      server: smtp.example.com   # SMTP_SERVER
      port: 587                  # SMTP_PORT (default: 587 starttls, 465 implicit, 25 none)
      tls: starttls              # SMTP_TLS: starttls | implicit | none
      username: bridge           # SMTP_USERNAME
      password_file: /run/secrets/smtp   # SMTP_PASSWORD(_FILE)
      from: allim@example.com    # SMTP_FROM
    receivers:
      critical:
        email:
          - {to: [oncall@example.com], from: pager@example.com}

The environment's channel (the default receiver's, and `channels: [email]`): EMAIL_TO with the SMTP settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from allim.secret import Secret
from allim.settings import Settings

TLS_PORTS = {"starttls": 587, "implicit": 465, "none": 25}


@dataclass(frozen=True)
class EmailConfig:
    """One list of recipients and the SMTP server that takes their mail."""

    channel: ClassVar[str] = "email"

    host: str
    port: int
    from_addr: str
    to: tuple[str, ...]
    tls: str = "starttls"  # "starttls" | "implicit" | "none"
    username: str | None = None
    password: Secret | None = None
    timeout: float = 15.0

    def secrets(self) -> tuple[Secret, ...]:
        return (self.password,) if self.password else ()


@dataclass(frozen=True)
class Smtp:
    """The top-level `smtp:` section (or SMTP_*): the server every email channel sends through."""

    host: str | None
    port: int
    from_addr: str | None
    tls: str
    username: str | None
    password: Secret | None


class EmailLoader:
    """Reads recipient lists from bridge.yml items and EMAIL_TO, with the shared `smtp:` section read once."""

    env_hint = "EMAIL_TO and SMTP_SERVER"

    def __init__(self, root: Settings) -> None:
        section = root.section("smtp")
        self.smtp = _smtp(section)
        section.check_unknown()

    def from_env(self, env: Settings) -> EmailConfig | None:
        return _email(env, self.smtp, env="EMAIL_TO")

    def from_item(self, item: Settings) -> EmailConfig | None:
        return _email(item, self.smtp)


def _smtp(settings: Settings) -> Smtp:
    tls = settings.string("tls", "starttls", env="SMTP_TLS", choices=tuple(TLS_PORTS)) or "starttls"
    return Smtp(
        host=settings.string("server", None, env="SMTP_SERVER"),
        port=settings.integer("port", TLS_PORTS[tls], env="SMTP_PORT", minimum=1, maximum=65535),
        from_addr=settings.string("from", None, env="SMTP_FROM"),
        tls=tls,
        username=settings.string("username", None, env="SMTP_USERNAME") or None,
        password=settings.secret("password", env="SMTP_PASSWORD"),
    )


def _email(settings: Settings, smtp: Smtp, env: str | None = None) -> EmailConfig | None:
    to = settings.string_list("to", [], env=env)
    from_addr = settings.string("from", smtp.from_addr)
    if not to:
        if env is None:
            settings.problem("to", "required: a list of recipient addresses")
        return None
    where = f"environment variable {env}" if env else settings.key_path("to")
    for address in to:
        if "@" not in address or any(c in address for c in "\r\n<>, "):
            settings.problems.append(f"{where}: {address!r} is not an email address")
    if not smtp.host:
        settings.problems.append(f"{where}: recipients are set but no SMTP server (smtp.server or SMTP_SERVER)")
    if not from_addr:
        settings.problems.append(f"{where}: needs a sender address (smtp.from or SMTP_FROM)")
    return EmailConfig(
        host=smtp.host or "",
        port=smtp.port,
        from_addr=from_addr or "",
        to=tuple(to),
        tls=smtp.tls,
        username=smtp.username,
        password=smtp.password,
    )
