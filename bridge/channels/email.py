"""Email (SMTP) delivery."""

from __future__ import annotations

from dataclasses import dataclass

from allim.secret import Secret


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int
    from_addr: str
    to: tuple[str, ...]
    tls: str = "starttls"  # "starttls" | "implicit" | "none"
    username: str | None = None
    password: Secret | None = None
    timeout: float = 15.0
