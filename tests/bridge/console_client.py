"""The bridge app in-process for the console, API and CLI tests: a config with a token (or not), channels that
fail as scripted, on either store, and a client that talks to it over ASGI."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from allim.secret import Secret
from bridge.app import create_app
from bridge.channels import SendError
from bridge.config import Formatting
from tests.bridge.conftest import make_database
from tests.bridge.helpers import FakeChannel, make_config
from tests.support import eventually

TOKEN = "console-s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def unknown_webhook() -> SendError:
    return SendError("discord answered 404: Unknown Webhook (code 10015)", retryable=False, reason="http_404")


def config_for(tmp_path, receivers, *, token: str | None = TOKEN, console_actions=False, language="en"):
    config = make_config(tmp_path, receivers=tuple(receivers))
    return dataclasses.replace(
        config,
        auth_token=Secret(token) if token else None,
        console_actions=console_actions,
        formatting=Formatting(language=language),
    )


@contextlib.asynccontextmanager
async def bridge_client(
    tmp_path, channels, *, store="sqlite", request: pytest.FixtureRequest | None = None, **options
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running on `store`, and a client (no credentials by default)."""
    config = config_for(tmp_path, channels, **options)
    database = make_database(store, request, tmp_path) if request is not None else None
    app = create_app(config, channels=channels, database=database)
    async with app.router.lifespan_context(app):
        await eventually(lambda: app.state.bridge.ready, what="the outbox to open")  # a shared store opens behind
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def failing_then_ok() -> FakeChannel:
    """A Discord-like channel whose first attempt is refused for good (dead) and whose next attempts succeed."""
    return FakeChannel("discord", "discord:webhooks/999/***", errors=[unknown_webhook()])


def form_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no form token on the page"
    return match.group(1)


async def deliveries(client: httpx.AsyncClient, headers=BEARER) -> list[dict]:
    found = (await client.get("/api/notifications", headers=headers)).json()["notifications"]
    return [d for n in found for d in n["deliveries"]]


async def states(client: httpx.AsyncClient, headers=BEARER) -> list[str]:
    return [d["state"] for d in await deliveries(client, headers)]
