"""The money rules of invoices, without a database: VAT per rate, due dates, statuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounting.invoicing.amounts import (
    InvoiceStatus,
    allocate_oldest_first,
    due_date,
    format_number,
    line_vats,
    split_credit,
    status_after,
    vat_amount,
    vat_rate_for,
    vat_summary,
)
from accounting.invoicing.errors import CreditNoteRefused, InvoicingError

D = Decimal
STD = "standard"
EX = "exempt_261b"


def test_vat_is_rounded_half_up_at_one_place():
    assert vat_amount(D("0.025"), D("20.00")) == D("0.01")  # 0,005 → 0,01
    assert vat_amount(D("3333.34"), D("20.00")) == D("666.67")  # 666,668
    assert vat_amount(D("-0.025"), D("20.00")) == D("-0.01")  # symmetric
    assert vat_amount(D("1000.00"), D("0.00")) == D("0.00")


def test_line_vats_add_up_to_the_vat_of_each_rate():
    # Three lines of 0,03 € at 20 %: each 0,006 → 0,01 (0,03 in all), but the rate's VAT is
    # 0,09 × 20 % = 0,018 → 0,02: the line with the largest base (the first) gives a cent back.
    lines = [(STD, D("20.00"), D("0.03"))] * 3 + [(EX, D("0.00"), D("50.00"))]
    assert line_vats(lines) == [D("0.00"), D("0.01"), D("0.01"), D("0.00")]
    summary = vat_summary(lines)
    assert [(t.regime, t.rate, t.base, t.vat) for t in summary] == [
        (STD, D("20.00"), D("0.09"), D("0.02")),
        (EX, D("0.00"), D("50.00"), D("0.00")),
    ]


def test_rates_of_the_regimes():
    assert vat_rate_for(STD) == D("20.00")
    assert vat_rate_for(EX) == D("0.00")
    with pytest.raises(ValueError):
        vat_rate_for("reduced")


def test_due_date_is_never_more_than_sixty_days_after_the_invoice():
    assert due_date(date(2026, 2, 5), 30) == date(2026, 3, 7)
    assert due_date(date(2026, 2, 5), 60) == date(2026, 4, 6)
    with pytest.raises(InvoicingError, match="L441-10"):
        due_date(date(2026, 2, 5), 61)


@pytest.mark.parametrize(
    ("paid", "credited", "status"),
    [
        ("0.00", "0.00", InvoiceStatus.ISSUED),
        ("10.00", "0.00", InvoiceStatus.PARTLY_PAID),
        ("100.00", "0.00", InvoiceStatus.PAID),
        ("60.00", "40.00", InvoiceStatus.PAID),
        ("0.00", "40.00", InvoiceStatus.ISSUED),
        ("0.00", "100.00", InvoiceStatus.CANCELLED),
        ("100.00", "100.00", InvoiceStatus.CANCELLED),
    ],
)
def test_status_follows_what_was_paid_and_credited(paid, credited, status):
    assert status_after(D("100.00"), D(paid), D(credited)) is status


def test_a_partial_credit_is_split_in_proportion_to_what_is_left_of_each_line():
    assert split_credit(D("100.00"), {1: D("200.00"), 2: D("100.00")}) == {
        1: D("66.67"), 2: D("33.33")}
    with pytest.raises(CreditNoteRefused, match="dépasse"):
        split_credit(D("300.01"), {1: D("200.00"), 2: D("100.00")})


def test_payments_go_to_the_oldest_invoices_first_and_the_rest_is_left():
    assert allocate_oldest_first(D("150.00"), [("a", D("100.00")), ("b", D("80.00"))]) == {
        "a": D("100.00"), "b": D("50.00")}
    assert allocate_oldest_first(D("500.00"), [("a", D("100.00"))]) == {"a": D("100.00")}


def test_numbers_have_the_year_and_four_digits():
    assert format_number(2026, 1) == "2026-0001"
    assert format_number(2026, 12345) == "2026-12345"
