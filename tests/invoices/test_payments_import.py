"""Payments import: preview with every row error, all or nothing, idempotent."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from accounting.invoicing.models import Payment
from accounting.invoicing.services import create_credit_note, issue_invoices, prepare_invoices
from accounting.periods import close_period, get_or_create_period
from accounting.workbooks.cells import put_text
from imports.errors import ImportRefused
from imports.payments import analyse_payments, import_payments
from tests.invoices.conftest import ISSUED_ON

D = Decimal
TODAY = date(2026, 4, 1)


@pytest.fixture
def issued(db, billing):
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=ISSUED_ON)


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = csv(
    "Date;Adhérent;Facture;Montant;Référence",
    "01/03/2026;;2026-0001;4 000,01;VIR JARDINS",
    "02/03/2026;B;;1000,00;VIR SCOP",
    "02/03/2026;B;;1000,00;VIR SCOP",
)


def test_the_preview_lists_the_new_rows_and_writes_nothing(db, issued):
    preview = analyse_payments(db, GOOD, "releve.csv", today=TODAY)
    assert preview.errors == []
    assert [(r.line, r.member.code, r.target, r.amount) for r in preview.new] == [
        (2, "A", "2026-0001", D("4000.01")),
        (3, "B", "factures les plus anciennes", D("1000.00")),
        (4, "B", "factures les plus anciennes", D("1000.00")),
    ]
    assert preview.total == D("6000.01")
    assert db.scalars(select(Payment)).all() == []


def test_importing_records_the_payments_and_the_same_file_twice_adds_nothing(db, issued):
    result = import_payments(db, GOOD, "releve.csv", today=TODAY)
    assert len(result.new) == 3
    a, b, _ = issued
    assert (a.status, b.status, b.amount_paid) == ("paid", "partly_paid", D("2000.00"))
    again = import_payments(db, GOOD, "releve.csv", today=TODAY)
    assert again.new == [] and len(again.already) == 3
    assert "déjà importée" in again.summary()
    assert len(db.scalars(select(Payment)).all()) == 3


def test_an_xlsx_statement_with_english_headers_is_read_too(db, issued):
    book = Workbook()
    book.active.append(["Date", "Member", "Amount", "Reference", "Method"])
    book.active.append([date(2026, 3, 3), "C", 800, None, "chèque"])
    put_text(book.active["D2"], "=cmd")  # a reference typed as text by the bank's export
    buffer = io.BytesIO()
    book.save(buffer)
    (row,) = import_payments(db, buffer.getvalue(), "bank.xlsx", today=TODAY).new
    payment = db.scalars(select(Payment)).one()
    assert (payment.amount, payment.method, payment.reference) == (D("800.00"), "cheque", "=cmd")
    assert row.member.code == "C"


def test_every_bad_row_is_named_with_its_column_and_nothing_is_written(db, issued):
    create_credit_note(db, issued[2], reason="Annulée", issue_date=date(2026, 2, 10))
    bad = csv(
        "Date;Adhérent;Facture;Montant;Référence;Mode",
        "31/02/2026;A;;10,00;x;virement",      # 2: impossible date
        "01/03/2026;ZZZ;;10,00;x;",            # 3: unknown member
        "01/03/2026;;2099-0001;10,00;x;",      # 4: unknown invoice
        "01/03/2026;A;2026-0002;10,00;x;",     # 5: invoice of another member
        "01/03/2026;;2026-0004;10,00;x;",      # 6: a credit note
        "01/03/2026;;2026-0003;10,00;x;",      # 7: a cancelled invoice
        "01/03/2026;A;;-5,00;x;",              # 8: negative amount
        "01/03/2026;A;;12,345;x;",             # 9: three decimals
        "01/05/2026;A;;10,00;x;",              # 10: in the future
        "01/03/2026;;;10,00;x;",               # 11: nobody
        "01/03/2026;A;;10,00;x;bitcoin",       # 12: unknown method
        "01/03/2026;A;;10,00;ok;",             # 13: fine
    )
    with pytest.raises(ImportRefused) as caught:
        import_payments(db, bad, "releve.csv", today=TODAY)
    errors = {(e.row, e.column): e.message for e in caught.value.errors}
    assert set(errors) == {
        (2, "Date"), (3, "Adhérent"), (4, "Facture"), (5, "Adhérent"), (6, "Facture"),
        (7, "Facture"), (8, "Montant"), (9, "Montant"), (10, "Date"), (11, None), (12, "Mode"),
    }
    assert "ZZZ" in errors[(3, "Adhérent")]
    assert "adressée à B, pas à A" in errors[(5, "Adhérent")]
    assert "avoir" in errors[(6, "Facture")]
    assert "annulée" in errors[(7, "Facture")]
    assert "futur" in errors[(10, "Date")]
    assert db.scalars(select(Payment)).all() == []


def test_a_file_without_the_required_columns_is_refused(db, issued):
    with pytest.raises(ImportRefused, match="Montant"):
        import_payments(db, csv("Date;Adhérent", "01/03/2026;A"), "x.csv", today=TODAY)
    with pytest.raises(ImportRefused, match="qui a payé"):
        import_payments(db, csv("Date;Montant", "01/03/2026;10"), "x.csv", today=TODAY)


def test_a_payment_dated_in_a_closed_period_is_refused(db, issued):
    close_period(db, get_or_create_period(db, "2026-03"))
    with pytest.raises(ImportRefused, match="clôturée"):
        import_payments(db, GOOD, "releve.csv", today=TODAY)


def test_two_rows_on_one_invoice_keep_the_surplus_as_credit(db, issued, billing):
    data = csv("Date;Facture;Montant", "01/03/2026;2026-0001;4000,01",
               "02/03/2026;2026-0001;50,00")
    import_payments(db, data, "releve.csv", today=TODAY)
    payments = db.scalars(select(Payment).order_by(Payment.id)).all()
    assert [p.unallocated for p in payments] == [D("0.00"), D("50.00")]
