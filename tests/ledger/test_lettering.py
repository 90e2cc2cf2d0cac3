"""Lettering: a payment matched to an invoice letters both 411 lines (same code, date), the
FEC carries them (EcritureLet, DateLet), and the unlettered balance is what is outstanding.

The worked example of the ledger fixtures: A 4 000,01, B 6 400,00, C 8 800,00 incl. tax,
issued on 5 February 2026.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from accounting.fec import FEC_COLUMNS
from accounting.invoicing.payments import member_balances
from accounting.ledger.catchup import post_missing
from accounting.ledger.fec_export import export_fec
from accounting.ledger.lettering import letter_accounts, letter_code, unlettered_balances
from accounting.ledger.models import JournalEntry, JournalLine, LineLetter
from app.invoices.usecases import credit_invoice, pay

D = Decimal
PAID_ON = date(2026, 3, 2)


def _letters(db) -> dict[tuple[str, str], tuple[str, date]]:
    """(account, source type) -> (code, date) of every lettered line."""
    rows = db.execute(
        select(LineLetter.account, JournalEntry.source_type, LineLetter.code,
               LineLetter.lettered_on)
        .join(JournalLine, JournalLine.id == LineLetter.line_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
    )  # fmt: skip
    return {(account, source): (code, day) for account, source, code, day in rows}


def test_letter_codes_run_like_spreadsheet_columns() -> None:
    assert [letter_code(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def test_a_payment_letters_its_invoice_and_a_half_payment_does_not(db, billing, issued):
    post_missing(db)
    a, b, c = issued
    pay(db, member=billing.members["A"], paid_on=PAID_ON, amount=D("4000.01"), invoices=[a],
        today=PAID_ON)
    pay(db, member=billing.members["B"], paid_on=PAID_ON, amount=D("3200.00"), invoices=[b],
        today=PAID_ON)
    credit_invoice(db, c, reason="Erreur de clé", issue_date=date(2026, 3, 3))
    letters = _letters(db)
    # A: the invoice and its payment, one code, the payment's date; C: invoice and credit note.
    assert letters == {
        ("411A", "invoice"): ("A", PAID_ON), ("411A", "payment"): ("A", PAID_ON),
        ("411C", "invoice"): ("A", date(2026, 3, 3)),
        ("411C", "credit_note"): ("A", date(2026, 3, 3)),
    }  # fmt: skip
    # B owes half of its invoice: what the unlettered lines say, and the balances page too.
    assert unlettered_balances(db) == {billing.members["B"].id: D("3200.00")}
    balances = {row.code: row.balance for row in member_balances(db)}
    assert balances == {"A": D("0.00"), "B": D("3200.00"), "C": D("0.00")}
    # B pays the rest: its three lines share one code; lettering twice changes nothing.
    pay(db, member=billing.members["B"], paid_on=date(2026, 3, 20), amount=D("3200.00"),
        invoices=[b], today=date(2026, 3, 20))
    assert letter_accounts(db) == 0
    assert {k: v for k, v in _letters(db).items() if k[0] == "411B"} == {
        ("411B", "invoice"): ("A", date(2026, 3, 20)),
        ("411B", "payment"): ("A", date(2026, 3, 20)),
    }
    assert unlettered_balances(db) == {}


def test_the_fec_carries_the_lettering_columns(db, billing, issued, tmp_path):
    post_missing(db)
    pay(db, member=billing.members["A"], paid_on=PAID_ON, amount=D("4000.01"),
        invoices=[issued[0]], today=PAID_ON)
    path, _ = export_fec(db, 2026, tmp_path)
    rows = [line.split("\t") for line in path.read_text("iso-8859-15").splitlines()]
    assert rows[0] == list(FEC_COLUMNS)
    let, date_let = FEC_COLUMNS.index("EcritureLet"), FEC_COLUMNS.index("DateLet")
    lettered = [(r[0], r[4], r[let], r[date_let]) for r in rows[1:] if r[let]]
    assert lettered == [("VT", "411A", "A", "20260302"), ("BQ", "411A", "A", "20260302")]
    unlettered_411 = [r for r in rows[1:] if r[4].startswith("411") and not r[let]]
    assert {r[4] for r in unlettered_411} == {"411B", "411C"}
    assert all(r[date_let] == "" for r in unlettered_411)
