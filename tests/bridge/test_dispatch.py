import asyncio

import pytest

from bridge.channels import SendError
from bridge.dispatch import Backoff, Worker
from bridge.metrics import BridgeMetrics
from bridge.outbox import ChannelRef, Outbox
from tests.bridge.conftest import Clock, make_database, opened
from tests.bridge.helpers import FakeChannel, notification, retryable
from tests.bridge.test_outbox import _same_database

REF = ChannelRef("default/fake/0", "fake", "fake:room")


@pytest.fixture
async def outbox(store, request, tmp_path):
    async with opened(Outbox(make_database(store, request, tmp_path), clock=Clock())) as box:
        yield box


class Waits:
    """A worker's waits, recorded: each (timeout) it asked for; a wait ends only when the worker is woken."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    async def __call__(self, event: asyncio.Event, timeout: float) -> None:
        self.timeouts.append(timeout)
        await event.wait()


async def until(predicate, what: str, timeout: float = 10.0) -> None:
    """Let the event loop run until `predicate()` holds; fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def make_worker(outbox, channel, backoff=None, redact=lambda text: text, wait=None):
    metrics = BridgeMetrics()
    backoff = backoff or Backoff(initial=10, maximum=100, deadline=3600, jitter=0)
    return Worker(channel, REF, outbox, metrics, backoff, clock=outbox.clock, redact=redact, wait=wait)


def sample(worker, name, **labels):
    value = worker.metrics.registry.get_sample_value(name, {"channel": "fake", **labels})
    return value or 0


async def test_dispatch_retries_a_retryable_failure_with_backoff_then_succeeds(outbox):
    channel = FakeChannel(errors=[retryable("http_500")])
    worker = make_worker(outbox, channel)
    await outbox.enqueue(notification(1), [REF], 300)
    await worker.step()  # attempt 1 fails
    delivery = await outbox.next_delivery(REF.key)
    assert (delivery.attempts, delivery.next_attempt_at) == (1, outbox.clock.now + 10)
    outbox.clock.now += 10
    await worker.step()  # attempt 2 succeeds
    assert channel.sent == [notification(1)]
    assert await outbox.next_delivery(REF.key) is None
    assert sample(worker, "allim_bridge_notification_requests_total") == 2
    assert sample(worker, "allim_bridge_notification_requests_failed_total", reason="http_500") == 1
    assert sample(worker, "allim_bridge_notifications_total") == 1
    assert sample(worker, "allim_bridge_delivery_seconds_count") == 1


async def test_dispatch_backoff_grows_exponentially_and_is_capped():
    backoff = Backoff(initial=1, maximum=60, jitter=0)
    assert [backoff.delay(n) for n in (1, 2, 3, 7, 50)] == [1, 2, 4, 60, 60]
    jittered = Backoff(initial=10, jitter=0.2)
    assert jittered.delay(1, rng=lambda: 0.0) == 8 and jittered.delay(1, rng=lambda: 1.0) == 12


async def test_dispatch_honours_retry_after_exactly(outbox):
    channel = FakeChannel(errors=[retryable("rate_limited", retry_after=2.5)])
    waits = Waits()
    worker = make_worker(outbox, channel, wait=waits)
    await outbox.enqueue(notification(1), [REF], 300)
    await worker.step()
    delivery = await outbox.next_delivery(REF.key)
    assert delivery.next_attempt_at == outbox.clock.now + 2.5  # not the 10 s backoff
    outbox.clock.now += 2.4
    waiting = asyncio.create_task(worker.step())  # not due: waits
    await until(lambda: waits.timeouts, "the worker waits")
    assert waits.timeouts == [pytest.approx(0.1)]
    assert channel.attempts == 1 and not waiting.done()
    outbox.clock.now += 0.1
    worker.wake.set()
    await waiting
    await worker.step()
    assert channel.sent == [notification(1)]


async def test_dispatch_marks_a_permanent_failure_dead_with_its_reason(outbox):
    secret = "https://discord.example/api/webhooks/1/very-secret-token"
    channel = FakeChannel(errors=[SendError(f"HTTP 400 from {secret}", retryable=False, reason="http_400")])
    worker = make_worker(outbox, channel, redact=lambda text: text.replace(secret, "**********"))
    await outbox.enqueue(notification(1), [REF], 300)
    await outbox.enqueue(notification(2), [REF], 300)
    await worker.step()
    await worker.step()  # the next row is not held back by the dead one
    assert channel.sent == [notification(2)]
    delivery = (await outbox.recent())[1]["deliveries"][0]
    assert delivery["state"] == "dead" and delivery["last_error"] == "HTTP 400 from **********"
    assert sample(worker, "allim_bridge_notifications_failed_total", reason="http_400") == 1


async def test_dispatch_gives_up_after_the_deadline(outbox):
    channel = FakeChannel(errors=[retryable()] * 10)
    worker = make_worker(outbox, channel, Backoff(initial=10, maximum=100, deadline=25, jitter=0))
    await outbox.enqueue(notification(1), [REF], 300)
    await worker.step()  # +10 s
    outbox.clock.now += 10
    await worker.step()  # next retry would be at +30 s, past the 25 s deadline
    delivery = (await outbox.recent())[0]["deliveries"][0]
    assert delivery["state"] == "dead" and delivery["last_error"].startswith("gave up after 2 attempts")
    assert sample(worker, "allim_bridge_notifications_failed_total", reason="http_500") == 1


async def test_dispatch_keeps_order_while_the_oldest_row_waits(outbox):
    channel = FakeChannel(errors=[retryable()])
    worker = make_worker(outbox, channel)
    await outbox.enqueue(notification(1), [REF], 300)
    await outbox.enqueue(notification(2), [REF], 300)
    await worker.step()
    outbox.clock.now += 10
    await worker.step()
    await worker.step()
    assert channel.sent == [notification(1), notification(2)]


async def test_dispatch_retries_an_unexpected_channel_error(outbox, caplog):
    channel = FakeChannel(errors=[RuntimeError("bug")])
    worker = make_worker(outbox, channel)
    await outbox.enqueue(notification(1), [REF], 300)
    await worker.step()
    delivery = await outbox.next_delivery(REF.key)
    assert delivery.attempts == 1
    assert "unexpected error" in caplog.text


async def test_dispatch_worker_wakes_on_enqueue(outbox):
    channel = FakeChannel()
    waits = Waits()
    worker = make_worker(outbox, channel, wait=waits)
    task = asyncio.create_task(worker.run())
    try:
        await until(lambda: waits.timeouts, "the idle worker waits")
        await outbox.enqueue(notification(1), [REF], 300)
        worker.wake.set()
        await until(lambda: channel.sent, "the delivery")
        assert channel.sent == [notification(1)]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_dispatch_persists_delivered_parts_and_skips_them_on_retry(store, request, tmp_path):
    def partial(parts):
        error = retryable("rate_limited", retry_after=1)
        error.delivered_parts = frozenset(parts)
        return error

    box = Outbox(make_database(store, request, tmp_path), clock=Clock())
    await box.open()
    channel = FakeChannel(errors=[partial({0}), partial({1})])
    worker = make_worker(box, channel)
    await box.enqueue(notification(1), [REF], 300)
    await worker.step()  # parts 0 accepted, then 429
    box.clock.now += 1
    await worker.step()  # part 1 accepted, then 429 again
    await box.close()

    reopened = Outbox(_same_database(box.database), clock=box.clock)  # as after a restart
    await reopened.open()
    try:
        reopened.clock.now += 1
        assert (await reopened.next_delivery(REF.key)).delivered_parts == {0, 1}
        await make_worker(reopened, channel).step()
        assert channel.skipped == [frozenset(), frozenset({0}), frozenset({0, 1})]
        assert channel.sent == [notification(1)]
    finally:
        await reopened.close()


async def test_dispatch_a_429_on_one_replica_holds_the_webhook_for_the_other(outbox):
    other_box = Outbox(_same_database(outbox.database), clock=outbox.clock)
    await other_box.open()
    try:
        limited = FakeChannel(errors=[retryable("rate_limited", retry_after=5)])
        first = make_worker(outbox, limited)
        second_channel = FakeChannel()
        second = Worker(second_channel, REF, other_box, BridgeMetrics(), first.backoff, owner="b", clock=outbox.clock)
        await outbox.enqueue(notification(1), [REF], 300)
        await outbox.enqueue(notification(2), [REF], 300)  # another group: not held up by order, only by the hold
        await first.step()  # 429, retry_after 5 s: the webhook is held on every replica
        assert await other_box.claim(REF.key, "b", lease=30) is None
        assert await other_box.next_due(REF.key) == outbox.clock.now + 5
        outbox.clock.now += 5
        await second.step()
        assert second_channel.sent == [notification(1)]
    finally:
        await other_box.close()


class Looks:
    """Counts the worker's questions to the outbox (claims and next-due looks)."""

    def __init__(self, outbox: Outbox) -> None:
        self.count = 0
        for name in ("claim", "outlook"):
            original = getattr(outbox, name)
            setattr(outbox, name, self._counted(original))

    def _counted(self, method):
        async def counted(*args, **kwargs):
            self.count += 1
            return await method(*args, **kwargs)

        return counted


async def test_dispatch_a_held_worker_sleeps_through_wake_ups_without_asking_the_outbox(outbox):
    channel = FakeChannel(errors=[retryable("rate_limited", retry_after=5)])
    waits = Waits()
    worker = make_worker(outbox, channel, wait=waits)
    await outbox.enqueue(notification(1), [REF], 300)
    await worker.step()  # 429: Discord says wait 5 s
    looks = Looks(outbox)
    for n in range(1, 4):  # an incident storm: every new row wakes the worker
        await outbox.enqueue(notification(n + 1), [REF], 300)
        waiting = asyncio.create_task(worker.step())
        await until(lambda: len(waits.timeouts) == n, "the worker waits")  # noqa: B023 - checked before the next n
        worker.wake.set()
        await waiting
    assert looks.count == 0 and waits.timeouts == [5, 5, 5]
    outbox.clock.now += 5
    await worker.step()
    assert looks.count > 0 and channel.sent == [notification(1)]


class LimitedChannel(FakeChannel):
    """Sends, then says what Discord's rate-limit headers would: `remaining` requests left for `reset_after` s."""

    def __init__(self, remaining: int, reset_after: float) -> None:
        super().__init__()
        self.remaining, self.reset_after = remaining, reset_after

    async def send(self, notification, attempt=None):
        await super().send(notification, attempt)
        await attempt.limited(self.remaining, self.reset_after)  # as Discord's channel does: the answer's headers,
        await attempt.accepted(0)  # then the part it accepted


async def test_dispatch_an_empty_bucket_holds_the_webhook_for_every_replica(outbox):
    other_box = Outbox(_same_database(outbox.database), clock=outbox.clock)
    async with opened(other_box):
        worker = make_worker(outbox, LimitedChannel(remaining=0, reset_after=2))
        await outbox.enqueue(notification(1), [REF], 300)
        await outbox.enqueue(notification(2), [REF], 300)
        await worker.step()  # sent; the bucket is empty for 2 s
        assert worker.held_until == outbox.clock.now + 2
        assert await other_box.claim(REF.key, "b", lease=30) is None  # no 429 to run into on the other replica
        assert await other_box.next_due(REF.key) == outbox.clock.now + 2
        outbox.clock.now += 2
        assert (await other_box.claim(REF.key, "b", lease=30)).notification == notification(2)
