from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from exporter.snapshot import HealthCollector, Snapshot
from exporter.sources.upstream import RateLimitGate
from tests.exporter.fakesources import StaticSource, source_config
from tests.support import Clock


async def test_snapshot_serves_published_families_with_cached_help() -> None:
    source = StaticSource("alpha", 7.0, source_config(interval=60))
    snapshot = Snapshot([source], clock=Clock(1000.0))
    await snapshot.publish("alpha", await source.collect())
    snapshot.record_success("alpha", 0.1)
    assert snapshot.source_body() == (
        b"# HELP alpha_value Value of alpha (cached, refreshed every 60s)\n# TYPE alpha_value gauge\nalpha_value 7.0\n"
    )


async def test_snapshot_drops_data_older_than_max_age() -> None:
    clock = Clock(1000.0)
    source = StaticSource("alpha", config=source_config(interval=10, max_age=30))
    snapshot = Snapshot([source], clock=clock)
    await snapshot.publish("alpha", await source.collect())
    snapshot.record_success("alpha", 0.1)
    clock.now += 29
    snapshot.record_failure("alpha", 0.1, "timeout")
    assert b"alpha_value" in snapshot.source_body()
    clock.now += 1
    assert snapshot.source_body() == b""


async def test_snapshot_late_publish_never_overwrites_a_newer_one() -> None:
    source = StaticSource("alpha")
    snapshot = Snapshot([source], clock=Clock(1000.0))
    old = [GaugeMetricFamily("alpha_value", "v", 1.0)]
    new = [GaugeMetricFamily("alpha_value", "v", 2.0)]
    slow = asyncio.create_task(snapshot.publish("alpha", old))
    await asyncio.sleep(0)  # the slow publish has taken its sequence number and is rendering
    await snapshot.publish("alpha", new)
    await slow
    snapshot.record_success("alpha", 0.1)
    assert b"alpha_value 2.0" in snapshot.source_body()


def gzip_body(snapshot: Snapshot, tail: bytes) -> bytes:
    return b"".join(snapshot.gzip_parts(tail))


async def test_snapshot_gzip_body_follows_changes() -> None:
    import gzip
    import zlib

    source = StaticSource("alpha", 1.0)
    snapshot = Snapshot([source], clock=Clock(1000.0))
    await snapshot.publish("alpha", await source.collect())
    snapshot.record_success("alpha", 0.1)
    decoder = zlib.decompressobj(31)  # a single-member reader, as httpx and curl use
    assert decoder.decompress(gzip_body(snapshot, b"tail 1\n")) == snapshot.source_body() + b"tail 1\n"
    assert decoder.eof
    assert gzip.decompress(gzip_body(snapshot, b"tail 2\n")).endswith(b"alpha_value 1.0\ntail 2\n")
    source.value = 5.0
    await snapshot.publish("alpha", await source.collect())
    assert b"alpha_value 5.0" in gzip.decompress(gzip_body(snapshot, b""))


def test_health_collector_reports_each_source() -> None:
    clock = Clock(1234.0)
    ok, bad = StaticSource("ok"), StaticSource("bad")
    bad.gate = RateLimitGate()  # type: ignore[attr-defined]
    bad.gate.remaining = 17  # type: ignore[attr-defined]
    snapshot = Snapshot([ok, bad], clock=clock)
    snapshot.record_success("ok", 0.25)
    snapshot.record_failure("bad", 2.0, "http_5xx")
    snapshot.record_failure("bad", 2.0, "http_5xx")
    registry = CollectorRegistry()
    registry.register(HealthCollector(snapshot))
    value = registry.get_sample_value
    assert value("allim_source_up", {"source": "ok"}) == 1
    assert value("allim_source_up", {"source": "bad"}) == 0
    assert value("allim_source_last_success_timestamp_seconds", {"source": "ok"}) == 1234.0
    assert value("allim_source_last_success_timestamp_seconds", {"source": "bad"}) is None
    assert value("allim_source_poll_duration_seconds", {"source": "bad"}) == 2.0
    assert value("allim_source_errors_total", {"source": "bad", "reason": "http_5xx"}) == 2
    assert value("allim_source_errors_total", {"source": "ok", "reason": "timeout"}) == 0
    assert value("allim_upstream_rate_limit_remaining", {"source": "bad"}) == 17
    assert value("allim_upstream_rate_limit_remaining", {"source": "ok"}) is None


def test_snapshot_ready_after_every_source_attempted() -> None:
    snapshot = Snapshot([StaticSource("a"), StaticSource("b")])
    assert not snapshot.ready
    snapshot.record_success("a", 0.1)
    assert not snapshot.ready
    snapshot.record_failure("b", 0.1, "timeout")
    assert snapshot.ready
