"""The double-entry rules of a set of lines, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.ledger.chart import check_account_number, pcg_label
from accounting.ledger.errors import InvalidAccount, InvalidLine, UnbalancedEntry
from accounting.ledger.posting import LineSpec, check_lines, signed_line

D = Decimal


def test_a_balanced_entry_passes() -> None:
    check_lines([
        LineSpec("411A", debit=D("1200.00")),
        LineSpec("706000", credit=D("1000.00")),
        LineSpec("445710", credit=D("200.00")),
    ])


def test_an_unbalanced_entry_is_refused_with_the_gap() -> None:
    with pytest.raises(UnbalancedEntry, match=r"débit 1200.00 €, crédit 1190.00 €, écart 10.00"):
        check_lines([LineSpec("411A", debit=D("1200.00")), LineSpec("706000", credit=D("1190.00"))])


@pytest.mark.parametrize(
    "line",
    [
        LineSpec("512000", debit=D("-5.00"), credit=D("0.00")),
        LineSpec("512000", debit=D("5.00"), credit=D("5.00")),
        LineSpec("512000"),
        LineSpec("512000", debit=D("5.001")),
    ],
)
def test_each_line_has_one_positive_amount_in_cents(line: LineSpec) -> None:
    with pytest.raises(InvalidLine):
        check_lines([line, LineSpec("401000", credit=D("5.00"))])


def test_one_line_is_not_an_entry() -> None:
    with pytest.raises(UnbalancedEntry, match="deux lignes"):
        check_lines([LineSpec("512000", debit=D("0.01"))])


def test_a_signed_amount_chooses_its_side() -> None:
    assert signed_line("706000", D("-10.00")) == LineSpec("706000", credit=D("10.00"))
    assert signed_line("706000", D("10.00")) == LineSpec("706000", debit=D("10.00"))
    assert signed_line("706000", D("0.00")) is None


@pytest.mark.parametrize("number", ["41", "A411", "411 VH", "", "6" * 21])
def test_account_numbers_begin_with_three_pcg_digits(number: str) -> None:
    with pytest.raises(InvalidAccount):
        check_account_number(number)


def test_an_account_created_on_the_fly_takes_the_label_of_its_longest_pcg_prefix() -> None:
    assert pcg_label("641100") == "Salaires, appointements"
    assert pcg_label("622610") == "Honoraires"
    assert pcg_label("708400") == "Mise à disposition de personnel facturée"
    assert pcg_label("999") == "Compte 999"
