"""The last good metrics of every source, pre-rendered, plus each source's health.

A scrape only reads memory: each source's families are rendered to exposition text when its poll
finishes (in the snapshot's render thread), and `/metrics` joins those chunks with the small self-metrics block.
Data older than the source's max age is dropped at scrape time and never served as fresh.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.exposition import text_exposition
from exporter.sources.base import Source
from exporter.sources.upstream import REASONS

log = logging.getLogger("exporter.snapshot")


def render(families: Iterable[Metric]) -> bytes:
    """Text exposition (format 0.0.4) of the given families: generate_latest's bytes, written faster and leaner."""
    return text_exposition(families)


@dataclass
class SourceState:
    """Everything the snapshot knows about one source."""

    source: Source
    chunk: bytes = b""
    chunk_seq: int = -1
    expires_at: float = 0.0
    attempted: bool = False
    up: bool = False
    last_success: float | None = None
    duration: float | None = None
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    # For the landing page: the last failure (its message holds no secret, see SourceError), the samples last
    # published, and when the scheduler polls next (unix times).
    last_error: str | None = None
    last_error_at: float | None = None
    series: int | None = None
    next_poll: float | None = None


class Snapshot:
    """Per-source rendered metrics and health; safe to read from the event loop at any time."""

    def __init__(self, sources: Iterable[Source], clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.states = {source.name: SourceState(source) for source in sources}
        self._seq = itertools.count()
        self._gzip_prefix: tuple[bytes, Any] | None = None
        # One long-lived thread renders for every source. The loop's default executor (asyncio.to_thread) starts a
        # thread per overlapping call, and glibc gives each its own malloc arena, where the free space a render
        # leaves behind stays resident: ~4.5 MB per thread at 17,500 series.
        self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="allim-render")

    def close(self) -> None:
        """Stop the render thread once it has finished what it was given."""
        self._renderer.shutdown(wait=False)

    # -- writers -------------------------------------------------------------------------
    async def publish(self, name: str, families: list[Metric]) -> None:
        """Render and store a source's families; a publish that finishes late never overwrites a newer one."""
        seq = next(self._seq)
        state = self.states[name]
        interval = state.source.config.interval
        for family in families:
            family.documentation = f"{family.documentation} (cached, refreshed every {interval:g}s)"
        chunk = await asyncio.get_running_loop().run_in_executor(self._renderer, render, families)
        if seq < state.chunk_seq:
            return
        state.chunk, state.chunk_seq = chunk, seq
        state.series = sum(len(family.samples) for family in families)
        self._gzip_prefix = None

    def record_success(self, name: str, duration: float) -> None:
        state = self.states[name]
        now = self.clock()
        state.attempted, state.up, state.last_success, state.duration = True, True, now, duration
        state.expires_at = now + state.source.config.max_age

    def record_failure(self, name: str, duration: float, reason: str, message: str = "") -> None:
        state = self.states[name]
        state.attempted, state.up, state.duration = True, False, duration
        state.errors[reason] = state.errors.get(reason, 0) + 1
        state.last_error, state.last_error_at = f"{reason}: {message}" if message else reason, self.clock()

    def schedule(self, name: str, delay: float) -> None:
        """The source's next poll starts in `delay` seconds (what the landing page shows)."""
        self.states[name].next_poll = self.clock() + delay

    # -- readers -------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once every source has finished its first poll, successful or not."""
        return all(state.attempted for state in self.states.values())

    def chunks(self) -> list[bytes]:
        """The rendered chunks of all sources with unexpired data, in source order.

        Served as they are rather than joined: a joined copy would double the largest thing the exporter holds.
        """
        now = self.clock()
        for name, state in self.states.items():
            if state.chunk and now >= state.expires_at:
                log.warning("dropping stale data", extra={"source": name, "max_age": state.source.config.max_age})
                state.chunk = b""
                self._gzip_prefix = None
        return [state.chunk for state in self.states.values() if state.chunk]

    def source_body(self) -> bytes:
        """The chunks joined: for one-off use (`--once`, tests); `/metrics` sends `chunks()` without joining."""
        return b"".join(self.chunks())

    def gzip_parts(self, tail: bytes) -> list[bytes]:
        """`source_body() + tail` as one gzip stream in parts, compressing the large source part once per change.

        The deflate state after the source part is kept (sync-flushed) and copied for each scrape, so a
        scrape compresses only the small tail yet yields a single gzip member that any client can read.
        """
        chunks = self.chunks()
        if self._gzip_prefix is None:
            compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: gzip container
            parts = [compressor.compress(chunk) for chunk in chunks]
            parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
            self._gzip_prefix = (b"".join(parts), compressor)
        prefix, compressor = self._gzip_prefix
        scrape = compressor.copy()
        return [prefix, scrape.compress(tail) + scrape.flush()]


class HealthCollector:
    """allim_source_* families, built fresh from the snapshot on each scrape (a few series per source)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        states = self.snapshot.states
        up = GaugeMetricFamily("allim_source_up", "1 when the source's last poll succeeded", labels=["source"])
        last = GaugeMetricFamily(
            "allim_source_last_success_timestamp_seconds",
            "Unix time of the source's last successful poll",
            labels=["source"],
        )
        duration = GaugeMetricFamily(
            "allim_source_poll_duration_seconds", "Duration of the source's last poll", labels=["source"]
        )
        errors = CounterMetricFamily(
            "allim_source_errors", "Failed polls of the source by reason", labels=["source", "reason"]
        )
        remaining = GaugeMetricFamily(
            "allim_upstream_rate_limit_remaining",
            "Requests (or quota tokens) the upstream says are left in its current window",
            labels=["source"],
        )
        for name, state in states.items():
            up.add_metric([name], 1.0 if state.up else 0.0)
            if state.last_success is not None:
                last.add_metric([name], state.last_success)
            if state.duration is not None:
                duration.add_metric([name], state.duration)
            for reason, count in state.errors.items():
                errors.add_metric([name, reason], count)
            gate = getattr(state.source, "gate", None)
            if gate is not None and gate.remaining is not None:
                remaining.add_metric([name], gate.remaining)
        yield from (up, last, duration, errors, remaining)
