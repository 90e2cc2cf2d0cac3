"""Issued invoices and credit notes never change: not through the ORM, not in bulk, not with
raw SQL (database triggers), only their payment state moves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from accounting.invoicing.errors import InvoiceImmutable
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.services import (
    create_credit_note,
    delete_draft,
    issue_invoices,
    prepare_invoices,
)
from tests.invoices.conftest import ISSUED_ON


@pytest.fixture
def issued(db, billing) -> Invoice:
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=ISSUED_ON)[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_excl_tax", Decimal("1.00")),
        ("customer_name", "Autre nom"),
        ("number", "2026-0099"),
        ("issue_date", ISSUED_ON.replace(day=6)),
        ("status", "draft"),
    ],
)
def test_an_issued_invoice_cannot_be_edited_through_the_orm(db, issued, field, value):
    with pytest.raises(InvoiceImmutable, match="Facture 2026-0001 est émis"), db.begin_nested():
        setattr(issued, field, value)
        db.flush()


def test_an_issued_invoice_cannot_be_deleted_through_the_orm(db, issued):
    with pytest.raises(InvoiceImmutable, match="supprimé"), db.begin_nested():
        db.delete(issued)
        db.flush()
    with pytest.raises(InvoiceImmutable):
        delete_draft(db, issued)


def test_lines_of_an_issued_invoice_cannot_be_edited_added_or_deleted(db, issued, billing):
    with pytest.raises(InvoiceImmutable, match="lignes d'un document émis"), db.begin_nested():
        issued.lines[0].designation = "Autre chose"
        db.flush()
    with pytest.raises(InvoiceImmutable, match="ajoutées"), db.begin_nested():
        db.add(InvoiceLine(invoice_id=issued.id, position=9, service_id=billing.compta.id,
                           designation="x", revenue_account="706000",
                           amount_excl_tax=Decimal("1.00"), vat_regime="standard",
                           vat_rate=Decimal("20.00"), vat_amount=Decimal("0.20")))
        db.flush()
    with pytest.raises(InvoiceImmutable, match="supprimées"), db.begin_nested():
        db.delete(issued.lines[0])
        db.flush()


def test_bulk_orm_updates_and_deletes_are_refused(db, issued):
    with pytest.raises(InvoiceImmutable, match="en masse"):
        db.execute(update(Invoice).values(customer_name="x"))
    with pytest.raises(InvoiceImmutable):
        db.execute(delete(InvoiceLine))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoices SET total_excl_tax = 0 WHERE id = :id",
        "UPDATE invoices SET customer_name = 'x' WHERE id = :id",
        "UPDATE invoices SET status = 'draft', number = NULL WHERE id = :id",
        "DELETE FROM invoices WHERE id = :id",
        "UPDATE invoice_lines SET designation = 'x' WHERE invoice_id = :id",
        "DELETE FROM invoice_lines WHERE invoice_id = :id",
        "INSERT INTO invoice_lines (invoice_id, position, service_id, designation, "
        "revenue_account, amount_excl_tax, vat_regime, vat_rate, vat_amount, basis) "
        "SELECT id, 99, 1, 'x', '706000', 1, 'standard', 0, 0, '{}' FROM invoices WHERE id = :id",
    ],
)
def test_raw_sql_cannot_change_an_issued_invoice(db, issued, statement):
    """Going around the ORM: the database's triggers refuse (PostgreSQL and SQLite)."""
    refused = r"issued invoice|lines of an issued invoice"
    with pytest.raises(DatabaseError, match=refused), db.begin_nested():
        db.execute(text(statement), {"id": issued.id})


def test_raw_sql_may_still_record_the_payment_state(db, issued):
    with db.begin_nested():
        db.execute(text("UPDATE invoices SET status = 'paid' WHERE id = :id"), {"id": issued.id})


def test_the_payment_state_may_change_through_the_orm(db, issued):
    issued.amount_paid = Decimal("10.00")
    issued.status = "partly_paid"
    db.flush()


def test_an_issued_credit_note_is_immutable_too(db, issued):
    note = create_credit_note(db, issued, reason="Erreur de période", issue_date=ISSUED_ON)
    with pytest.raises(InvoiceImmutable, match="Avoir 2026-0004 est émis"), db.begin_nested():
        note.reason = "autre"
        db.flush()


def test_a_draft_may_be_deleted(db, billing):
    draft = prepare_invoices(db, billing.period)[0]
    delete_draft(db, draft)
    assert db.get(Invoice, draft.id) is None
