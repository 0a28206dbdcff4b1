"""What receivers said about waiting, per target and shared by every replica: holds, and a mirror of the rate
limit bucket, so that a backlog drains at the receiver's own pace without a 429.

A hold (`holds.not_before`) is "nothing to this target before then": Discord's 429 `retry_after`, or its bucket
being empty. The bucket is mirrored from the rate-limit headers on each response (`tokens` requests left until
`window_ends`): a report sets it, counting the requests other workers have in flight (another replica, another
receiver posting to the same webhook) as already spent, and within a live window only ever lowers it; every claim
takes a token first, and the last token holds the target until the window ends. Once a window has passed, what
the receiver allows now is unknown (Discord's bucket refills whole, a sliding window frees one request at a
time), so one request goes at a time until its answer reports the new bucket. Taking a token and claiming are
one transaction (the `holds` row locked on PostgreSQL), so two replicas never both spend the last one. A target
never reported on (no headers) is not counted at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.store import Tx

HOLD = (
    "INSERT INTO holds (target, not_before) VALUES (%s, %s) ON CONFLICT (target) DO UPDATE SET"
    " not_before = CASE WHEN excluded.not_before > holds.not_before THEN excluded.not_before"
    " ELSE holds.not_before END"
)
# Requests other workers may have in flight to a target (parameters: target, now, this delivery's id or 0).
IN_FLIGHT_ROWS = "deliveries WHERE target = %s AND lease_owner IS NOT NULL AND lease_until > %s AND id <> %s"
IN_FLIGHT = f"SELECT count(*) FROM {IN_FLIGHT_ROWS}"
# One statement: the requests left less those in flight elsewhere; within a live window the lower count is kept,
# otherwise (a new window, or the first answer after one passed) the report starts the window. Parameters:
# remaining, target, now, delivery id, target, window end, window end, now, now.
_KEEP = "holds.window_ends > %s AND holds.tokens <= excluded.tokens"
REPORT = (
    f"WITH fresh AS (SELECT %s - count(*) AS tokens FROM {IN_FLIGHT_ROWS})"
    " INSERT INTO holds (target, not_before, tokens, window_ends)"
    " SELECT %s, CASE WHEN tokens <= 0 THEN %s ELSE 0 END, tokens, %s FROM fresh WHERE true"
    " ON CONFLICT (target) DO UPDATE SET not_before = CASE WHEN excluded.not_before > holds.not_before"
    " THEN excluded.not_before ELSE holds.not_before END,"
    f" tokens = CASE WHEN {_KEEP} THEN holds.tokens ELSE excluded.tokens END,"
    f" window_ends = CASE WHEN {_KEEP} THEN holds.window_ends ELSE excluded.window_ends END"
)
# What a claim needs to know of a row's target (for a query over `deliveries d`): its tokens (NULL: not counted).
TOKENS_OF_D = "(SELECT h.tokens FROM holds h WHERE h.target = d.target)"


@dataclass(frozen=True)
class RateLimit:
    """What a receiver's answer said of its bucket: `remaining` requests to `target` left for `reset_after` s."""

    target: str
    remaining: int
    reset_after: float


async def hold(tx: Tx, target: str, until: float) -> None:
    """No request to `target` before `until` (a hold only ever grows)."""
    await tx.execute(HOLD, (target, until))


async def report(tx: Tx, target: str, delivery_id: int, remaining: int, window_end: float, now: float) -> None:
    """The receiver said `remaining` requests are left until `window_end` (after a request of delivery
    `delivery_id`); held until then when that is used up."""
    await tx.execute(REPORT, (remaining, target, now, delivery_id, target, window_end, window_end, now, now))


async def take_token(tx: Tx, target: str, now: float, greatest: str) -> bool:
    """Spend one request of the target's live window, holding it once that was the last; after the window, one
    request while no other is in flight. False when there is none to spend (another replica took it since the
    caller looked; try again shortly). True for a target never reported on."""
    rows = await tx.execute(
        "UPDATE holds SET tokens = tokens - 1, not_before = CASE WHEN tokens <= 1"
        f" THEN {greatest}(not_before, window_ends) ELSE not_before END"
        " WHERE target = %s AND window_ends > %s AND tokens IS NOT NULL RETURNING tokens",
        (target, now),
    )
    if rows:
        return int(rows[0][0]) >= 0
    # The row locked (an update that changes nothing), so a second replica counts after this claim's lease.
    if not await tx.execute(
        "UPDATE holds SET tokens = tokens WHERE target = %s AND tokens IS NOT NULL RETURNING 1", (target,)
    ):
        return True
    return int((await tx.execute(IN_FLIGHT, (target, now, 0)))[0][0]) == 0


async def prune(tx: Tx, now: float) -> None:
    """Holds and windows that have ended."""
    await tx.execute("DELETE FROM holds WHERE not_before < %s AND coalesce(window_ends, 0) < %s", (now, now))
