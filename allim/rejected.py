"""The one exception for refusing a request, free of any web framework.

Kept apart from `allim.requests` (which needs Starlette) so that the exporter's sources can refuse a webhook
payload without importing a web framework; `allim.requests` re-exports it.
"""

from __future__ import annotations


class Rejected(Exception):
    """A request refused with `status` and the one-line `reason` sent back to the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
