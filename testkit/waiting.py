"""Waiting for something to become true, with a deadline and a message saying what never happened."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable


def wait_until(
    predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> object:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds.

    A predicate that raises counts as not yet true (a server that is not listening yet).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except Exception:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


async def eventually(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01, what: str = ""
) -> object:
    """The async `wait_until`: `predicate` may be a plain function or return an awaitable; the loop keeps
    running between polls, so the app under test makes progress while the test waits."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(interval)
