"""Several bridge processes on one real PostgreSQL: dedup across replicas, takeover after SIGKILL, a database outage.

The Discord fake is a real HTTP server; the bridges are real processes started with BRIDGE_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.bridge.helpers import FakeChannel, make_config, notification, webhook
from tests.fakes.discord import FakeDiscord
from tests.postgres import PostgresServer
from tests.support import Process, free_port, python_module, wait_until

LEASE = "2s"  # short, so a killed replica's rows are taken over within the test


class Bridge:
    """A bridge replica: its process and base URL."""

    def __init__(self, tmp_path: Path, name: str, database_url: str, discord: FakeDiscord) -> None:
        config = tmp_path / f"{name}.yml"
        config.write_text(json.dumps({"outbox": {"lease": LEASE, "busy_timeout": "2s"}}))
        port = free_port()
        env = {
            "BRIDGE_DATABASE_URL": database_url,
            "BRIDGE_DATA_DIR": str(tmp_path / name),
            "DISCORD_WEBHOOK_URL": discord.url(),
            "BRIDGE_AUTH_TOKEN": "",
            "EMAIL_TO": "",
        }
        args = python_module("bridge", "--web.listen-address", f"127.0.0.1:{port}", "--config.file", str(config))
        self.process = Process(args, tmp_path / f"{name}.log", env)
        self.url = f"http://127.0.0.1:{port}"

    def post(self, n: int, status: str = "firing") -> int:
        try:
            return httpx.post(f"{self.url}/alertmanager/default", json=webhook(n, status), timeout=10).status_code
        except httpx.HTTPError:
            return 0

    def notifications(self) -> list[dict[str, object]]:
        return httpx.get(f"{self.url}/api/notifications?limit=500", timeout=5).json()["notifications"]


@pytest.fixture
def bridges(tmp_path, postgres, discord) -> Iterator[list[Bridge]]:
    """Two replicas started at the same moment on an empty database."""
    url = postgres.create_database()
    replicas = [Bridge(tmp_path, name, url, discord) for name in ("a", "b")]
    try:
        for replica in replicas:
            replica.process.wait_http(f"{replica.url}/readyz")
        yield replicas
    finally:
        for replica in replicas:
            replica.process.stop()


def sent_counts(discord: FakeDiscord) -> collections.Counter[str]:
    return collections.Counter(m["embeds"][0]["title"].split()[1] for m in discord.messages)


def all_sent(bridge: Bridge, total: int) -> bool:
    listed = bridge.notifications()
    return len(listed) == total and all(d["state"] == "sent" for n in listed for d in n["deliveries"])  # type: ignore[attr-defined]


@pytest.mark.slow
def test_ha_the_same_webhook_to_both_replicas_is_sent_once(bridges, discord, postgres):
    a, b = bridges
    start = next(line for line in a.process.log().splitlines() if "msg=starting" in line)
    assert "store=postgresql host=127.0.0.1" in start and f"port={postgres.port} db=t_" in start
    assert postgres.password not in a.process.log()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda job: job[0].post(job[1]), [(r, n) for n in range(50) for r in (a, b)]))
    assert codes == [200] * 100
    wait_until(lambda: all_sent(b, 50), timeout=30, what="50 notifications sent")
    assert sent_counts(discord) == {f"Probe{n}": 1 for n in range(50)}
    assert _duplicates(a) + _duplicates(b) == 50


def _duplicates(bridge: Bridge) -> float:
    for line in httpx.get(f"{bridge.url}/metrics", timeout=5).text.splitlines():
        if line.startswith("allim_bridge_duplicates_total "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.slow
def test_ha_sigkill_of_a_replica_mid_delivery_loses_nothing(bridges, discord):
    a, b = bridges
    discord.delay = 0.3  # each post takes a while, so both replicas have one in flight most of the time
    for n in range(12):
        assert a.post(n) == 200
        assert b.post(n + 100) == 200
    wait_until(lambda: len(discord.messages) >= 3, timeout=20, what="deliveries under way")
    a.process.kill()
    in_flight_at_kill = 1  # one worker per channel per replica: at most one request of a was in flight
    wait_until(lambda: all_sent(b, 24), timeout=40, what="the survivor to deliver everything")
    counts = sent_counts(discord)
    expected = {f"Probe{n}" for n in (*range(12), *range(100, 112))}
    assert set(counts) == expected  # nothing lost
    assert sum(counts.values()) - len(expected) <= in_flight_at_kill  # duplicates: at most the in-flight one


@pytest.mark.slow
def test_ha_database_outage_answers_503_and_loses_no_accepted_notification(tmp_path, discord):
    server = PostgresServer()
    server.start()
    bridge = Bridge(tmp_path, "solo", server.create_database(), discord)
    try:
        bridge.process.wait_http(f"{bridge.url}/readyz")
        answers: dict[int, int] = {}
        stop = threading.Event()

        def load() -> None:
            n = 0
            while not stop.is_set():
                answers[n] = bridge.post(n)
                n += 1
                time.sleep(0.05)

        sender = threading.Thread(target=load)
        sender.start()
        try:
            wait_until(lambda: len(answers) >= 10, timeout=10, what="load before the outage")
            server.stop()
            wait_until(lambda: 503 in answers.values(), timeout=15, what="503 while the database is down")
            ready = httpx.get(f"{bridge.url}/readyz", timeout=10)
            assert ready.status_code == 503 and "store unreachable" in ready.text
            assert httpx.get(f"{bridge.url}/healthz", timeout=5).status_code == 200
            outage_started = time.monotonic()
            wait_until(lambda: time.monotonic() - outage_started > 10, timeout=15, interval=0.5)
            server.start()
            count = len(answers)
            wait_until(lambda: any(answers.get(n) == 200 for n in range(count, count + 1000)), timeout=30)
        finally:
            stop.set()
            sender.join()
        accepted = {n for n, code in answers.items() if code == 200}
        assert set(answers.values()) <= {200, 503}
        assert bridge.process.alive()
        wait_until(lambda: sent_counts(discord).keys() >= {f"Probe{n}" for n in accepted}, timeout=30)
        assert server.password not in bridge.process.log()
    finally:
        bridge.process.stop()
        server.remove()


class BlockedChannel(FakeChannel):
    """A channel whose sends never finish: its replica's worker stays busy."""

    async def send(self, notification, attempt):
        self.attempts += 1
        await asyncio.Event().wait()


async def test_ha_a_free_replica_picks_up_within_a_second(tmp_path, postgres):
    from bridge.app import create_app
    from bridge.store.postgres import PostgresDatabase

    url = postgres.create_database()
    busy, free = BlockedChannel(), FakeChannel()
    apps = [
        create_app(make_config(tmp_path / name), channels={"default": [channel]}, database=PostgresDatabase(url))
        for name, channel in (("a", busy), ("b", free))
    ]
    async with contextlib.AsyncExitStack() as stack:
        a, b = apps
        await stack.enter_async_context(a.router.lifespan_context(a))
        await wait_async(lambda: a.state.bridge.ready, 10, "replica a open")
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://a")
        )
        assert (await client.post("/alertmanager/default", json=webhook(1))).status_code == 200
        await wait_async(lambda: busy.attempts, 5, "replica a's worker to be busy")
        await stack.enter_async_context(b.router.lifespan_context(b))
        await wait_async(lambda: b.state.bridge.ready, 10, "replica b open")
        await asyncio.wait_for(b.state.bridge.outbox.database.listening.wait(), 10)
        workers = b.state.bridge.dispatcher.workers.values()
        await wait_async(lambda: not any(w.wake.is_set() for w in workers), 5, "replica b idle")
        accepted = time.monotonic()
        assert (await client.post("/alertmanager/default", json=webhook(2))).status_code == 200  # to the busy one
        await wait_async(lambda: free.sent, 5, "replica b to deliver it")
        assert time.monotonic() - accepted < 1.5  # woken by NOTIFY, not by its 5 s idle recheck
        assert [n.group_key for n in free.sent] == [notification(2).group_key]


async def wait_async(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_ha_two_replicas_drain_at_discords_pace_without_a_429(tmp_path, postgres, discord):
    from bridge.app import create_app
    from bridge.load import config_from_mapping
    from bridge.store.postgres import PostgresDatabase

    discord.bucket, discord.bucket_window = 5, 0.5  # one bucket for the webhook, whichever replica posts
    url = postgres.create_database()
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            env = {"DISCORD_WEBHOOK_URL": discord.url(), "BRIDGE_DATA_DIR": str(tmp_path / name)}
            app = create_app(config_from_mapping({}, env), database=PostgresDatabase(url))
            await stack.enter_async_context(app.router.lifespan_context(app))
            await wait_async(lambda app=app: app.state.bridge.ready, 10, f"replica {name} open")
            transport = httpx.ASGITransport(app=app)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://r")))
        started = time.monotonic()
        for n in range(30):
            assert (await clients[n % 2].post("/alertmanager/default", json=webhook(200 + n))).status_code == 200
        await wait_async(lambda: len(discord.messages) >= 30, 30, "30 messages")
        elapsed = time.monotonic() - started
    assert sent_counts(discord) == {f"Probe{200 + n}": 1 for n in range(30)}
    assert discord.requests == 30  # not one answered 429
    assert elapsed >= 5 * 0.5  # 30 messages, 5 per window: five full windows waited at least
