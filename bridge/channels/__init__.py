"""Delivery channels: each makes one attempt and says whether a failure is worth retrying."""

from __future__ import annotations

from typing import Protocol

from bridge.alertmanager import Notification


class SendError(Exception):
    """A failed attempt. `retryable` decides between backoff and dead-letter; `retry_after` (seconds)
    is the receiver's own instruction (Discord's 429 `retry_after`), honoured over the backoff.
    The message must hold no secret (no webhook URL token, no password)."""

    def __init__(self, message: str, *, retryable: bool, reason: str = "error", retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.reason = reason  # value of the `reason` label of allim_bridge_notifications_failed_total
        self.retry_after = retry_after
        # Parts (messages) of a multi-part notification the receiver already accepted: the dispatcher stores
        # them with the delivery and passes them back as `skip_parts`, so a retry, even after a restart,
        # never posts them twice.
        self.delivered_parts: frozenset[int] = frozenset()


class Channel(Protocol):
    """One configured destination (a Discord webhook, a list of email recipients, the log)."""

    name: str  # "discord", "email", "log": the `channel` label value
    target: str  # a redacted, human-readable destination for /api/notifications ("discord:…/1234", "email:ops@x")

    async def send(self, notification: Notification, *, skip_parts: frozenset[int] = frozenset()) -> None:
        """One attempt, leaving out the parts in `skip_parts`; raises SendError."""
        ...
