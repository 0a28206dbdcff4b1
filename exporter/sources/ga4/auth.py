"""Service-account key → OAuth2 access token for the GA4 Data API, through google-auth.

google-auth signs the JWT-bearer assertion and posts it to the key's own `token_uri`; its refresh is
blocking, so it runs in a worker thread over a tiny synchronous httpx transport (no `requests` needed).
The token is cached and refreshed once it is within google-auth's threshold (3 min 45 s) of expiring.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport
import httpx
from google.auth.credentials import TokenState
from google.oauth2 import service_account

from allim.secret import Secret
from allim.settings import is_http_url
from exporter.sources.upstream import SourceError

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
REQUIRED_FIELDS = ("client_email", "private_key", "token_uri")
TOKEN_TIMEOUT = 10.0


class KeyFileError(ValueError):
    """What is wrong with a service-account key file, in words a user can act on (never the key itself)."""


def read_key_file(path: str) -> tuple[str, Secret]:
    """The key's service-account email and its whole JSON text (a Secret); a KeyFileError saying what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"{path} is not a JSON key file (not UTF-8 text)") from None
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyFileError(f"{path} is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    if not isinstance(info, dict):
        raise KeyFileError(f"{path} is not a service-account key: expected a JSON object")
    if info.get("type") != "service_account":
        found = info.get("type")
        raise KeyFileError(
            f"{path} is not a service-account key (type is {found!r}, expected 'service_account'): "
            "create a JSON key for a service account in the Google Cloud console"
        )
    missing = [name for name in REQUIRED_FIELDS if not isinstance(info.get(name), str) or not info[name]]
    if missing:
        raise KeyFileError(f"{path} is missing {', '.join(missing)}")
    if not is_http_url(info["token_uri"]):
        raise KeyFileError(f"{path}: token_uri must be an http(s) URL")
    try:
        build_credentials(info)
    except (ValueError, google.auth.exceptions.GoogleAuthError):
        # The library's message may quote the key material: say what is wrong in our own words.
        raise KeyFileError(f"{path}: private_key is not a valid PEM-encoded RSA private key") from None
    return info["client_email"], Secret(text)


def build_credentials(info: dict[str, Any]) -> service_account.Credentials:
    """Credentials that exchange a signed JWT at the key's own token_uri for an access token."""
    credentials: service_account.Credentials = service_account.Credentials.from_service_account_info(
        info, scopes=[SCOPE]
    )
    return credentials


class HttpxTransport(google.auth.transport.Request):
    """google-auth's transport interface over a synchronous httpx client; used only for token refreshes."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        try:
            with httpx.Client(timeout=timeout or TOKEN_TIMEOUT, follow_redirects=False) as client:
                response = client.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise google.auth.exceptions.TransportError(f"{type(exc).__name__} calling the token endpoint") from None
        return _Response(response)


class _Response(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> dict[str, str]:
        return dict(self._response.headers)

    @property
    def data(self) -> bytes:
        return self._response.content


class ServiceAccountAuth:
    """Hands out a cached access token, refreshing it in a worker thread when stale or when forced."""

    def __init__(self, key: Secret) -> None:
        self._credentials = build_credentials(json.loads(key.reveal()))
        self._transport = HttpxTransport()
        self._lock = asyncio.Lock()
        self.refreshes = 0

    @property
    def email(self) -> str:
        return str(self._credentials.service_account_email)

    async def token(self, *, force: bool = False) -> str:
        """A usable access token; `force` replaces the cached one (after the API answered 401)."""
        async with self._lock:
            if force or self._credentials.token_state != TokenState.FRESH:
                await asyncio.to_thread(self._refresh)
            return str(self._credentials.token)

    def _refresh(self) -> None:
        try:
            self._credentials.refresh(self._transport)
        except google.auth.exceptions.TransportError as exc:
            raise SourceError("network", f"GA4 token exchange failed: {exc}") from None
        except google.auth.exceptions.RefreshError as exc:
            # args[0] is the endpoint's error text ("invalid_grant: ..."); it holds no token or key.
            detail = " ".join(str(exc.args[0] if exc.args else "refused").split())[:200]
            reason = "http_5xx" if exc.retryable else "http_4xx"
            raise SourceError(reason, f"GA4 token exchange refused for {self.email}: {detail}") from None
        self.refreshes += 1
