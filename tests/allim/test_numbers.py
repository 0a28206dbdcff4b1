from __future__ import annotations

import pytest

from allim.numbers import as_number


@pytest.mark.parametrize(
    ("value", "number"),
    [(3, 3.0), (2.5, 2.5), ("150", 150.0), (" 99.9588 ", 99.9588), (b"7", 7.0), ("-1e3", -1000.0)],
)
def test_numbers_as_number_accepts_numbers_and_numeric_strings(value: object, number: float) -> None:
    assert as_number(value) == number


@pytest.mark.parametrize("value", [None, True, False, "", "many", [1], {"a": 1}])
def test_numbers_as_number_is_none_for_anything_else(value: object) -> None:
    assert as_number(value) is None
