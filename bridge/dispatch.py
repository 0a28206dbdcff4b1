"""Delivery workers: one per channel instance, sending its outbox rows in order, with backoff on failures.

A worker takes the oldest pending row of its channel and waits until that row is due, so notifications go
out in the order they were accepted (a resolved never overtakes its firing) and a rate-limited or broken
destination is not hammered. Channels make one attempt each; retry policy lives here: exponential backoff
with jitter, the receiver's own `retry_after` honoured exactly (Discord 429), and a total deadline after
which the row is dead. Permanent failures are dead at once. Dead rows and their reasons show in
/api/notifications and in allim_bridge_notifications_failed_total.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.channels import Channel, SendError
from bridge.metrics import BridgeMetrics
from bridge.outbox import ChannelRef, Delivery, Outbox

log = logging.getLogger("bridge.dispatch")

IDLE_RECHECK = 60.0  # an idle worker looks at the outbox this often even without a wake-up


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    maximum: float = 300.0
    deadline: float = 86_400.0  # seconds after acceptance when a still-failing delivery is given up
    jitter: float = 0.2  # +-20%, so many rows failing together do not retry in lockstep

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds before retry number `attempt` (1 for the first retry)."""
        base = min(self.maximum, self.initial * 2 ** min(attempt - 1, 60))
        return base * (1 + self.jitter * (2 * rng() - 1))


class Worker:
    """Sends one channel instance's deliveries."""

    def __init__(
        self,
        channel: Channel,
        ref: ChannelRef,
        outbox: Outbox,
        metrics: BridgeMetrics,
        backoff: Backoff,
        *,
        clock: Callable[[], float] = time.time,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.channel = channel
        self.ref = ref
        self.outbox = outbox
        self.metrics = metrics
        self.backoff = backoff
        self.clock = clock
        self.redact = redact
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a disk error, a bug: keep the worker alive, the row stays pending
                log.exception("delivery worker error", extra={"channel": self.ref.key})
                await asyncio.sleep(1.0)

    async def step(self) -> None:
        """Send the next due delivery, or wait until one is due or a new one arrives."""
        self.wake.clear()  # before reading, so an enqueue racing with the read still wakes us
        delivery = await self.outbox.next_delivery(self.ref.key)
        if delivery is None:
            await self._wait(IDLE_RECHECK)
            return
        delay = delivery.next_attempt_at - self.clock()
        if delay > 0:
            await self._wait(delay)
            return
        await self.attempt(delivery)

    async def _wait(self, timeout: float) -> None:
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that races with the wake-up.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.wake.wait()

    async def attempt(self, delivery: Delivery) -> None:
        name = self.ref.name
        self.metrics.requests.labels(name).inc()
        try:
            await self.channel.send(delivery.notification, skip_parts=delivery.delivered_parts)
        except SendError as exc:
            await self._failed(delivery, exc)
            return
        except Exception as exc:  # a channel bug must not lose the row: retry it like a temporary failure
            log.exception("channel raised an unexpected error", extra={"channel": self.ref.key})
            await self._failed(delivery, SendError(type(exc).__name__, retryable=True, reason="unexpected"))
            return
        await self.outbox.mark_sent(delivery.id, name)  # first thing after success: keeps the duplicate window small
        self.metrics.notifications.labels(name).inc()
        self.metrics.delivery_seconds.labels(name).observe(max(0.0, self.clock() - delivery.created_at))

    async def _failed(self, delivery: Delivery, exc: SendError) -> None:
        name, message = self.ref.name, self.redact(str(exc))
        self.metrics.requests_failed.labels(name, exc.reason).inc()
        now = self.clock()
        attempt = delivery.attempts + 1
        if exc.retry_after is not None:
            delay = max(0.0, float(exc.retry_after))
        else:
            delay = self.backoff.delay(attempt)
        expired = now + delay - delivery.created_at > self.backoff.deadline
        fields = {"channel": self.ref.key, "target": self.ref.target, "reason": exc.reason, "attempt": attempt}
        if not exc.retryable or expired:
            if expired and exc.retryable:
                message = f"gave up after {attempt} attempts: {message}"
            await self.outbox.mark_dead(delivery.id, name, message)
            self.metrics.failed.labels(name, exc.reason).inc()
            log.error("delivery failed permanently", extra={**fields, "err": message})
            return
        parts = delivery.delivered_parts | exc.delivered_parts
        await self.outbox.reschedule(delivery.id, now + delay, message, parts)
        log.warning("delivery failed, will retry", extra={**fields, "retry_in": round(delay, 3), "err": message})


class Dispatcher:
    """All workers of the app; started and stopped by the lifespan, woken by the webhook handlers."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = {w.ref.key: w for w in workers}
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(w.run(), name=f"deliver {key}") for key, w in self.workers.items()]

    def wake(self, keys: list[str]) -> None:
        for key in keys:
            self.workers[key].wake.set()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
