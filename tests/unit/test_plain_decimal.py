"""Numbers shown or written as people write them: no useless zeros, never an exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.money import plain_decimal


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("40.000"), "40"),  # str(normalize()) would say 4E+1
        (Decimal("100.000"), "100"),  # and 1E+2
        (Decimal("0.500"), "0.5"),
        (Decimal("1.250"), "1.25"),
        (Decimal("0.000"), "0"),
        ("2.50", "2.5"),
    ],
)
def test_plain_decimal(value, shown):
    assert plain_decimal(value) == shown
