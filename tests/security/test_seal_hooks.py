"""The use cases seal what they make inalterable: issued invoices, credit notes, closed (and
reopened) periods; payment follow-up leaves the seals valid; an edit behind the application's
back (triggers dropped, raw SQL) is named by verify."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounting.invoicing.payments import record_payment
from accounting.invoicing.services import create_credit_note, issue_invoices, prepare_invoices
from accounting.periods import close_period, get_or_create_period, reopen_period
from accounting.seal import Seal, verify_chain
from tests.invoices.conftest import ISSUED_ON, Billing


def _seals(db: Session) -> list[tuple[str, str, str]]:
    return [
        (s.object_type, s.label, s.action) for s in db.scalars(select(Seal).order_by(Seal.seq))
    ]


def drop_triggers(db: Session, *tables: str) -> None:
    """What someone with the database's admin rights would do before editing sealed rows: the
    user triggers of ``tables`` off (PostgreSQL, after running the deferred checks pending) or
    dropped (SQLite)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        for table in tables:
            db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    for table in tables:
        names = db.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        ).all()
        for name in names:
            db.execute(text(f'DROP TRIGGER "{name}"'))


def test_issuing_seals_each_invoice_with_its_lines(db: Session, billing: Billing) -> None:
    prepare_invoices(db, billing.period)
    before = len(_seals(db))  # the fixture's cost posted its (sealed) entry
    issued = issue_invoices(db, billing.period, issue_date=ISSUED_ON, issued_by="t@vh.fr")
    assert _seals(db)[before:] == [("invoices", inv.number, "issue") for inv in issued]
    assert [inv.number for inv in issued] == ["2026-0001", "2026-0002", "2026-0003"]
    report = verify_chain(db)
    assert report.ok, report.problems
    assert report.records == 3 + before


def test_credit_notes_and_payments_keep_the_chain_valid(db: Session, billing: Billing) -> None:
    prepare_invoices(db, billing.period)
    first, *_ = issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    record_payment(
        db, member=first.member, paid_on=date(2026, 2, 20), amount=Decimal("1000.00"),
        invoices=[first],
    )
    note = create_credit_note(
        db, first, reason="Erreur de clé", amount=Decimal("100.00"), issue_date=date(2026, 2, 21)
    )
    assert _seals(db)[-1] == ("invoices", note.number, "credit_note")
    report = verify_chain(db)
    assert report.ok, report.problems  # status, amount paid and credited may change


def test_verify_names_the_invoice_whose_line_was_edited_in_sql(
    db: Session, billing: Billing
) -> None:
    prepare_invoices(db, billing.period)
    issued = issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    second = issued[1]
    drop_triggers(db, "invoices", "invoice_lines")
    db.execute(
        text(
            "UPDATE invoice_lines SET amount_excl_tax = amount_excl_tax - 1 "
            "WHERE invoice_id = :id"
        ),
        {"id": second.id},
    )
    report = verify_chain(db)
    sealed_at = db.scalar(
        select(Seal.seq).where(Seal.object_type == "invoices", Seal.object_id == str(second.id))
    )
    assert report.first is not None
    assert (report.first.seq, report.first.label) == (sealed_at, second.number)
    assert "invoice_lines[1].amount_excl_tax" in report.first.message
    assert len(report.problems) == 1


def test_an_invoice_issued_behind_the_application_is_reported(
    db: Session, billing: Billing
) -> None:
    drafts = prepare_invoices(db, billing.period)
    db.execute(
        text(
            "UPDATE invoices SET status = 'issued', number = '2026-0099', year = 2026, "
            "sequence = 99, issue_date = :d, due_date = :d WHERE id = :id"
        ),
        {"id": drafts[0].id, "d": ISSUED_ON},
    )
    report = verify_chain(db)
    assert [(p.seq, p.label) for p in report.problems] == [(None, "2026-0099")]
    assert "has no seal" in report.problems[0].message


def test_closing_and_reopening_a_period_are_sealed(db: Session) -> None:
    period = get_or_create_period(db, "2026-03")
    close_period(db, period)
    reopen_period(db, period, "Charge oubliée")
    close_period(db, period)
    assert _seals(db) == [
        ("periods", "2026-03", "close"),
        ("periods", "2026-03", "reopen"),
        ("periods", "2026-03", "close"),
    ]
    assert verify_chain(db).ok
