"""Delivery workers: one per channel instance and replica, claiming its outbox rows, with backoff on failures.

A worker claims the oldest due row at the head of an alert group's queue (see bridge/outbox.py), so for one
channel instance and group notifications go out in the order they were accepted (a resolved never overtakes
its firing), across every replica sharing the store, while other groups are not held up by one that waits.
Channels make one attempt each; retry policy lives here: exponential backoff with jitter, the receiver's own
`retry_after` honoured exactly (Discord's 429, stored as a hold on that webhook for every replica), and a
total deadline after which the row is dead. Permanent failures are dead at once. Dead rows and their reasons
show in /api/notifications and in allim_bridge_notifications_failed_total.

Waiting costs nothing: a worker sleeps until its next row is due, a wake-up (a new row, another replica's
NOTIFY) ends the sleep early, and while its receiver is held (a 429, or its rate-limit headers saying the bucket
is empty) it sleeps until the hold ends whatever wakes it, since no new row could go sooner. It does not look at
the outbox in between, so an incident storm that piles up rows behind a rate-limited Discord costs no queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bridge.channels import Attempt, Channel, SendError
from bridge.metrics import BridgeMetrics
from bridge.outbox import ChannelRef, Delivery, Outbox
from bridge.outbox_holds import RateLimit
from bridge.store import StoreError

log = logging.getLogger("bridge.dispatch")

IDLE_RECHECK = 60.0  # an idle worker looks at the outbox this often even without a wake-up
SHARED_RECHECK = 5.0  # ... and this often when other replicas share it (a wake-up may be missed on a reconnect)
BUSY_RECHECK = 0.05  # due, but another replica holds the row locked or probes the receiver: look again shortly
DEFAULT_LEASE = 30.0


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    maximum: float = 300.0
    deadline: float = 86_400.0  # seconds after acceptance when a still-failing delivery is given up
    jitter: float = 0.2  # +-20%, so many rows failing together do not retry in lockstep

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds before retry number `attempt` (1 for the first retry)."""
        base = min(self.maximum, self.initial * 2.0 ** min(attempt - 1, 60))
        return base * (1 + self.jitter * (2 * rng() - 1))


async def wait_for_event(event: asyncio.Event, timeout: float) -> None:
    """Until `event` is set or `timeout` seconds have passed."""
    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that races with the wake-up.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()


class Worker:
    """Sends one channel instance's deliveries, as `owner` (this replica), holding each row for `lease` seconds."""

    def __init__(
        self,
        channel: Channel,
        ref: ChannelRef,
        outbox: Outbox,
        metrics: BridgeMetrics,
        backoff: Backoff,
        *,
        owner: str = "local",
        lease: float = DEFAULT_LEASE,
        clock: Callable[[], float] = time.time,
        redact: Callable[[str], str] = lambda text: text,
        wait: Callable[[asyncio.Event, float], Awaitable[None]] | None = None,
    ) -> None:
        self.channel = channel
        self.ref = ref
        self.outbox = outbox
        self.metrics = metrics
        self.backoff = backoff
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.redact = redact
        self.wake = asyncio.Event()
        self.wait = wait or wait_for_event  # tests pass one that records the timeouts
        self.recheck = SHARED_RECHECK if outbox.database.shared else IDLE_RECHECK
        self.held_until = 0.0  # the receiver's hold as this worker last learnt it: nothing is sent before it
        self.busy = False  # the last step sent something: the next claims without looking first

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except StoreError as exc:  # the database is down: the rows wait there, try again shortly
                log.warning("delivery worker cannot reach the store", extra={"channel": self.ref.key, "err": str(exc)})
                await self._wait(1.0)
            except Exception:  # a bug: keep the worker alive, the row stays pending
                log.exception("delivery worker error", extra={"channel": self.ref.key})
                await self._wait(1.0)

    async def step(self) -> None:
        """Send the next due delivery, or wait until one is due or a new one arrives (or the hold ends)."""
        self.wake.clear()  # before reading, so an enqueue racing with the read still wakes us
        held = self.held_until - self.clock()
        if held > 0:  # a wake-up cannot make anything go sooner: no look at the outbox until the hold ends
            await self._wait(held)
            return
        delivery = await self.outbox.claim(self.ref.key, self.owner, self.lease, look=not self.busy)
        self.busy = delivery is not None
        if delivery is not None:
            await self.attempt(delivery)
            return
        look = await self.outbox.outlook(self.ref.key)
        if look is None:
            await self._wait(self.recheck)
            return
        self.hold(look.held_until)  # e.g. another replica's 429
        await self._wait(min(max(look.at - self.clock(), BUSY_RECHECK), self.recheck))

    def hold(self, until: float) -> None:
        """Send nothing before `until` (a hold only grows)."""
        self.held_until = max(self.held_until, until)

    async def _wait(self, timeout: float) -> None:
        await self.wait(self.wake, timeout)

    async def attempt(self, delivery: Delivery) -> None:
        name = self.ref.name
        self.metrics.requests.labels(name).inc()
        attempt = StoredAttempt(delivery, self)
        try:
            await self.channel.send(delivery.notification, attempt)
        except SendError as exc:
            await self._failed(delivery, attempt, exc)
            return
        except Exception as exc:  # a channel bug must not lose the row: retry it like a temporary failure
            log.exception("channel raised an unexpected error", extra={"channel": self.ref.key})
            await self._failed(delivery, attempt, SendError(type(exc).__name__, retryable=True, reason="unexpected"))
            return
        # First thing after success: keeps the duplicate window small.
        if not await self.outbox.mark_sent(delivery.id, name, self.owner):
            log.warning("delivered, but the lease had passed to another worker", extra=self._fields(delivery))
        self.metrics.notifications.labels(name).inc()
        self.metrics.delivery_seconds.labels(name).observe(max(0.0, self.clock() - delivery.created_at))

    def _fields(self, delivery: Delivery) -> dict[str, object]:
        return {"channel": self.ref.key, "target": self.ref.target, "delivery": delivery.id}

    async def _failed(self, delivery: Delivery, attempt: Attempt, exc: SendError) -> None:
        name, message = self.ref.name, self.redact(str(exc))
        self.metrics.requests_failed.labels(name, exc.reason).inc()
        now = self.clock()
        number = delivery.attempts + 1
        if exc.retry_after is not None:
            delay = max(0.0, float(exc.retry_after))
            await self.outbox.hold(self.ref.target, now + delay)  # every replica waits for this receiver
            self.hold(now + delay)
        else:
            delay = self.backoff.delay(number)
        expired = now + delay - (delivery.queued_at or delivery.created_at) > self.backoff.deadline
        fields = {**self._fields(delivery), "reason": exc.reason, "attempt": number}
        if not exc.retryable or expired:
            if expired and exc.retryable:
                message = f"gave up after {number} attempts: {message}"
            await self.outbox.mark_dead(delivery.id, name, message, self.owner)
            self.metrics.failed.labels(name, exc.reason).inc()
            log.error("delivery failed permanently", extra={**fields, "err": message})
            return
        parts = {**{index: {} for index in exc.delivered_parts}, **attempt.part_info}
        await self.outbox.reschedule(delivery.id, now + delay, message, parts, self.owner)
        log.warning("delivery failed, will retry", extra={**fields, "retry_in": round(delay, 3), "err": message})


class StoredAttempt(Attempt):
    """An attempt whose accepted parts and group state live in the outbox: each part is saved the moment the
    receiver takes it (renewing the lease), so a takeover by another replica never sends it again."""

    def __init__(self, delivery: Delivery, worker: Worker) -> None:
        super().__init__(part_info=delivery.part_info)
        self.delivery = delivery
        self.worker = worker
        self.limit: RateLimit | None = None  # the receiver's bucket, as its last answer said: stored with the part

    async def accepted(self, index: int, **info: Any) -> None:
        await super().accepted(index, **info)
        w, limit, self.limit = self.worker, self.limit, None
        if not await w.outbox.record_parts(self.delivery.id, self.part_info, w.owner, w.lease, limit):
            log.warning("the lease passed to another worker mid-delivery", extra=w._fields(self.delivery))

    async def limited(self, remaining: int, reset_after: float) -> None:
        self.limit = RateLimit(self.worker.ref.target, remaining, reset_after)
        if remaining <= 0:  # spent: this worker waits for the refill (others learn it from the outbox)
            self.worker.hold(self.worker.clock() + reset_after)

    async def group_state(self) -> dict[str, Any] | None:
        return await self.worker.outbox.group_state(self.delivery.channel_key, self.delivery.group_key)

    async def set_group_state(self, data: dict[str, Any]) -> None:
        await self.worker.outbox.set_group_state(self.delivery.channel_key, self.delivery.group_key, data)


class Dispatcher:
    """All workers of the app; started and stopped by the lifespan, woken by the webhook handlers."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = {w.ref.key: w for w in workers}
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(w.run(), name=f"deliver {key}") for key, w in self.workers.items()]

    def wake(self, keys: list[str] | None) -> None:
        """Wake the workers of these channel keys (None: all of them); keys of other configs are ignored."""
        for key in self.workers if keys is None else keys:
            worker = self.workers.get(key)
            if worker is not None:
                worker.wake.set()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
