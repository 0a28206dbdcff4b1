from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from exporter.scheduler import poll_forever, poll_once
from exporter.snapshot import Snapshot
from exporter.sources.upstream import SourceError
from tests.exporter.fakesources import HangingSource, RaisingSource, StaticSource, source_config


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


async def test_scheduler_polls_on_its_interval() -> None:
    source = StaticSource("fast", config=source_config(interval=0.05, timeout=0.04))
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(poll_forever(source, Snapshot([source])))
    await asyncio.sleep(0.22)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    elapsed = loop.time() - started
    # Never more often than the interval (a loaded machine may only make it poll less often).
    assert 2 <= source.calls <= elapsed / 0.05 + 1
