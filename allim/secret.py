"""A string that never prints itself."""

from __future__ import annotations

import hmac


class Secret:
    """Wraps a credential so that repr(), str() and f-strings show asterisks, never the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, given: str | bytes | None) -> bool:
        """Whether `given` is this secret, compared in constant time; never true for an empty value."""
        if not given or not self._value:
            return False
        given_bytes = given.encode() if isinstance(given, str) else given
        return hmac.compare_digest(given_bytes, self._value.encode())

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
