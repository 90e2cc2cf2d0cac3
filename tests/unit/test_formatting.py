"""The French formats of the templates (app/formatting.py), written out by hand: narrow
no-break space between thousands, comma, no-break space before the euro sign."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.formatting import date_fr, money, number

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.5"), f"1{NNBSP}234,50{NBSP}€"),
        (Decimal("-1234567.891"), f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (Decimal("0.005"), f"0,00{NBSP}€"),  # half-even, as Babel (and the ledger) round
        (Decimal("0.015"), f"0,02{NBSP}€"),
        (7, f"7,00{NBSP}€"),
        (None, "—"),
    ],
)
def test_money(value, text) -> None:
    assert money(value) == text
    assert money(value) == text  # the second answer comes from the memo: the same


def test_a_negative_zero_is_shown_as_zero_whichever_came_first() -> None:
    assert money(Decimal("-0.00")) == f"0,00{NBSP}€"
    assert money(Decimal("0")) == f"0,00{NBSP}€"
    assert number(Decimal("-0"), 1) == "0,0"


def test_equal_values_written_differently_give_the_same_text() -> None:
    assert money(Decimal("12.5")) == money(Decimal("12.50")) == f"12,50{NBSP}€"
    assert number(Decimal("3.5"), 3) == "3,500"
    assert number(Decimal("3.500"), 0) == "4"  # half-even: 3.5 → 4
    assert number(Decimal("2.5"), 0) == "2"
    assert number(1234567, 0) == f"1{NNBSP}234{NNBSP}567"
    assert number(None) == "—"


def test_moments_are_shown_in_paris_time_as_babel_showed_them() -> None:
    """Naive moments are UTC; summer and winter time, the hour that repeats in October."""
    from datetime import UTC, datetime, timedelta, timezone

    from babel.dates import format_datetime

    moments = [
        datetime(2026, 1, 15, 23, 30),  # winter: 00:30 the next day
        datetime(2026, 7, 1, 22, 5),  # summer: 00:05 the next day
        datetime(2026, 3, 29, 0, 59), datetime(2026, 3, 29, 1, 0),  # the clocks go forward
        datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 30),  # 02:30 twice
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
    ]
    expected = ["16/01/2026 00:30", "02/07/2026 00:05", "29/03/2026 01:59", "29/03/2026 03:00",
                "25/10/2026 02:30", "25/10/2026 02:30", "01/01/2027 00:00", "01/06/2026 19:00"]
    assert [date_fr(moment) for moment in moments] == expected
    assert expected == [format_datetime(moment, "dd/MM/yyyy HH:mm", tzinfo="Europe/Paris",
                                        locale="fr_FR") for moment in moments]  # fmt: skip
