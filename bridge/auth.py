"""Checking the shared token on write endpoints: `Authorization: Bearer <token>` or basic auth with it as password."""

from __future__ import annotations

from allim.requests import token_from_authorization
from allim.secret import Secret


def authorized(header: str | None, token: Secret | None) -> bool:
    """True without a configured token; else the header must carry it (compared in constant time)."""
    return token is None or token.matches(token_from_authorization(header))
