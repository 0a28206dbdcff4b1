"""Polls each source on its own interval with a timeout, and records the outcome in the snapshot."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from exporter.snapshot import Snapshot
from exporter.sources.base import Source
from exporter.sources.upstream import SourceError

log = logging.getLogger("exporter.scheduler")


async def poll_once(source: Source, snapshot: Snapshot) -> str | None:
    """Collect once; publish on success. Returns None on success, else the failure reason."""
    started = time.monotonic()
    reason: str | None = None
    message = ""
    try:
        # asyncio.timeout, not wait_for: collect() runs in this task, so nothing (a webhook's publish) can run
        # between its return and the publish below, which would otherwise supersede newer state with older.
        async with asyncio.timeout(source.config.timeout):
            families = await source.collect()
    except TimeoutError:
        reason, message = "timeout", f"no answer within {source.config.timeout:g}s"
    except SourceError as exc:
        reason, message = exc.reason, str(exc)
    except httpx.TimeoutException:
        reason, message = "timeout", "upstream timed out"
    except httpx.HTTPError as exc:
        reason, message = "network", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug in one source must not stop its poller or touch the others
        log.exception("poll crashed", extra={"source": source.name})
        reason, message = "other", f"{type(exc).__name__}: {exc}"
    duration = time.monotonic() - started
    if reason is None:
        await snapshot.publish(source.name, families)
        snapshot.record_success(source.name, duration)
        log.debug("poll ok", extra={"source": source.name, "duration": round(duration, 3)})
        return None
    snapshot.record_failure(source.name, duration, reason, message)
    log.warning("poll failed", extra={"source": source.name, "reason": reason, "err": message})
    return reason


async def poll_forever(
    source: Source,
    snapshot: Snapshot,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Poll at a fixed rate (start to start), never more often than the interval, until cancelled.

    `clock` and `sleep` are injected so a test can drive the schedule without waiting for real time.
    """
    interval = source.config.interval
    next_start = clock()
    while True:
        await poll_once(source, snapshot)
        next_start += interval
        now = clock()
        if next_start < now:  # a poll overran its slot: skip the missed slots instead of bursting
            next_start = now + interval - ((now - next_start) % interval)
        snapshot.schedule(source.name, next_start - now)
        await sleep(next_start - now)


def start_pollers(sources: list[Source], snapshot: Snapshot) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(poll_forever(s, snapshot), name=f"poll-{s.name}") for s in sources]
