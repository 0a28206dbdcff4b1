"""The one lenient number parser: upstream APIs and headers send counts as numbers or as numeric strings."""

from __future__ import annotations


def as_number(value: object) -> float | None:
    """`value` as a float when it is a number or a numeric string ("150", " 99.9 "); None otherwise.

    Booleans are not numbers here (JSON `true` is no count), and neither are containers or None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str | bytes):
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None
