"""The bulk writer's cents (accounting.bulk_rows): what the money type itself stores on
SQLite, and the same refusals."""

from __future__ import annotations

from decimal import Decimal


def test_bulk_cents_are_what_the_money_type_stores() -> None:
    from sqlalchemy.dialects import sqlite

    from accounting.bulk_rows import _cents
    from accounting.db import ScaledDecimal

    money, dialect = ScaledDecimal(2, 14), sqlite.dialect()

    def typed(value):
        return money.process_bind_param(value, dialect)

    cents = _cents(money, typed)
    for value in (Decimal("1.5"), Decimal("-0"), Decimal("-3.10"), Decimal("1E+3"), 7, None,
                  Decimal("99999999999.99")):
        assert cents(value) == typed(value)
    assert cents(Decimal("12.34")) == 1234
    for bad in (Decimal("1.005"), Decimal("NaN")):
        try:
            cents(bad)
        except (ArithmeticError, ValueError) as error:
            try:
                typed(bad)
            except type(error):
                continue
        raise AssertionError(f"{bad} not refused as the type refuses it")
