"""Form tokens for the console's actions: proof that a POST comes from a page this bridge rendered.

A token is `<issued unix time>.<HMAC-SHA256(key, issued time)>`, put in a hidden field of every action form and
checked (constant-time, `hmac.compare_digest`) before the action runs; it is refused after MAX_AGE. Another site's
page can make a browser post to the bridge (with the basic-auth credentials the browser remembers) but cannot read
a console page, so it never has a valid token.

The key: with `BRIDGE_AUTH_TOKEN` set, HMAC-SHA256 of a fixed label under the token, so every replica behind one
load balancer accepts the others' forms and a new token voids every old form; without it, random per process (a
restart voids open forms: reload the page). The token itself never appears in a page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from allim.rejected import Rejected
from allim.secret import Secret

FIELD = "csrf"
MAX_AGE = 12 * 3600.0  # a page left open longer must be reloaded before its buttons work
CLOCK_SKEW = 300.0  # replicas' clocks may differ this much
LABEL = b"allim-bridge console form token v1"
REFUSED = "the form's token is missing or wrong: reload the page and try again"
EXPIRED = "the form has expired: reload the page and try again"


class FormTokens:
    def __init__(self, key: bytes, *, clock: Callable[[], float] = time.time, max_age: float = MAX_AGE) -> None:
        self._key = key
        self.clock = clock
        self.max_age = max_age

    @classmethod
    def for_token(cls, token: Secret | None, *, clock: Callable[[], float] = time.time) -> FormTokens:
        key = hmac.new(token.reveal().encode(), LABEL, hashlib.sha256).digest() if token else secrets.token_bytes(32)
        return cls(key, clock=clock)

    def _mac(self, issued: int) -> str:
        return hmac.new(self._key, str(issued).encode(), hashlib.sha256).hexdigest()

    def issue(self) -> str:
        issued = int(self.clock())
        return f"{issued}.{self._mac(issued)}"

    def check(self, value: str | None) -> None:
        """Rejected(403) unless `value` is a token this key issued, no older than `max_age`."""
        issued_text, _, mac = (value or "").partition(".")
        if not issued_text.isdigit() or not hmac.compare_digest(mac.encode(), self._mac(int(issued_text)).encode()):
            raise Rejected(403, REFUSED, key="form_token")
        age = self.clock() - int(issued_text)
        if age > self.max_age or age < -CLOCK_SKEW:
            raise Rejected(403, EXPIRED, key="form_expired")
