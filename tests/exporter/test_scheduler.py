from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from prometheus_client.metrics_core import Metric

from exporter.scheduler import poll_forever, poll_once
from exporter.snapshot import Snapshot
from exporter.sources.upstream import SourceError
from tests.exporter.fakesources import HangingSource, RaisingSource, StaticSource, source_config
from tests.support import Clock


async def test_scheduler_hanging_source_times_out_and_others_stay() -> None:
    good = StaticSource("good", 3.0)
    hung = HangingSource("hung", config=source_config(timeout=0.05))
    snapshot = Snapshot([good, hung])
    reasons = await asyncio.gather(poll_once(good, snapshot), poll_once(hung, snapshot))
    assert reasons == [None, "timeout"]
    assert b"good_value 3.0" in snapshot.source_body()
    assert snapshot.states["hung"].up is False
    assert snapshot.states["hung"].errors["timeout"] == 1


async def test_scheduler_raising_source_is_counted_as_other(caplog: pytest.LogCaptureFixture) -> None:
    broken = RaisingSource("broken")
    snapshot = Snapshot([broken])
    with caplog.at_level(logging.ERROR):
        assert await poll_once(broken, snapshot) == "other"
    assert snapshot.states["broken"].errors["other"] == 1
    assert "poll crashed" in caplog.text


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SourceError("http_5xx", "HTTP 502"), "http_5xx"),
        (httpx.ConnectError("refused"), "network"),
        (httpx.ReadTimeout("slow"), "timeout"),
    ],
)
async def test_scheduler_classifies_failures(error: Exception, reason: str) -> None:
    class Failing(StaticSource):
        async def collect(self):  # type: ignore[no-untyped-def]
            raise error

    source = Failing("f")
    snapshot = Snapshot([source])
    assert await poll_once(source, snapshot) == reason


async def test_scheduler_keeps_last_good_data_after_a_failure() -> None:
    source = StaticSource("flaky", 1.0)
    snapshot = Snapshot([source])
    await poll_once(source, snapshot)

    async def fail() -> list:
        raise SourceError("http_5xx", "down")

    source.collect = fail  # type: ignore[method-assign]
    assert await poll_once(source, snapshot) == "http_5xx"
    assert b"flaky_value 1.0" in snapshot.source_body()
    assert snapshot.states["flaky"].up is False


class Schedule:
    """An injected clock and sleep: each sleep advances the clock at once; the `stop_after`-th one then parks
    the poller until the test cancels it, so the test needs no real time and a loaded machine cannot skew it."""

    def __init__(self, stop_after: int) -> None:
        self.clock = Clock(100.0)
        self.sleeps: list[float] = []
        self.stop_after = stop_after
        self.parked = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
        if len(self.sleeps) >= self.stop_after:
            self.parked.set()
            await asyncio.Event().wait()


async def run_schedule(source: StaticSource, schedule: Schedule) -> None:
    task = asyncio.create_task(poll_forever(source, Snapshot([source]), clock=schedule.clock, sleep=schedule.sleep))
    await asyncio.wait_for(schedule.parked.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_scheduler_polls_on_its_interval() -> None:
    source = StaticSource("fast", config=source_config(interval=0.05, timeout=0.04))
    schedule = Schedule(stop_after=5)
    started = schedule.clock()
    await run_schedule(source, schedule)
    elapsed = schedule.clock() - started
    assert schedule.sleeps == pytest.approx([0.05] * 5)
    # Never more often than the interval (a loaded machine may only make it poll less often).
    assert 2 <= source.calls <= elapsed / 0.05 + 1


async def test_scheduler_skips_the_slots_a_slow_poll_overran() -> None:
    class Slow(StaticSource):
        async def collect(self) -> list[Metric]:
            schedule.clock.advance(0.12)  # this poll takes 2.4 intervals
            return await super().collect()

    source = Slow("slow", config=source_config(interval=0.05, timeout=0.04))
    schedule = Schedule(stop_after=2)
    await run_schedule(source, schedule)
    # Each poll ends 0.02 s into its third slot: the next starts at the slot after, not in a burst.
    assert schedule.sleeps == pytest.approx([0.03, 0.03])
