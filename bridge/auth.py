"""Checking the shared token on write endpoints: `Authorization: Bearer <token>` or basic auth with it as password."""

from __future__ import annotations

import base64
import binascii

from allim.secret import Secret


def authorized(header: str | None, token: Secret | None) -> bool:
    """True without a configured token; else the header must carry it (compared in constant time)."""
    if token is None:
        return True
    if not header:
        return False
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        credentials = decoded.partition(":")[2]
    elif scheme.lower() != "bearer":
        return False
    return token.matches(credentials)
