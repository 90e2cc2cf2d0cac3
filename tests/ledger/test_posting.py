"""The entries of invoices, credit notes, payments and costs, worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from accounting.audit import AuditEvent
from accounting.costs import Cost, CostInput, CostKind, add_cost, delete_cost, update_cost
from accounting.invoicing.payments import record_payment
from accounting.invoicing.services import create_credit_note
from accounting.ledger.catchup import post_missing, unposted_counts, unposted_documents
from accounting.ledger.errors import AlreadyPosted, EntryImmutable
from accounting.ledger.models import Account, JournalEntry, JournalLine
from accounting.ledger.posting import entries_of, post_invoice, post_payment, reverse_entry
from accounting.periods import PeriodClosed, close_period

D = Decimal


def lines_of(entry: JournalEntry) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.account, line.debit, line.credit) for line in entry.lines]


def test_each_issued_invoice_gets_its_sales_entry(db, issued) -> None:
    assert [invoice.number for invoice in issued] == ["2026-0001", "2026-0002", "2026-0003"]
    entries = [post_invoice(db, invoice) for invoice in issued]
    # A: 3 333,34 excl. tax, VAT 20 % = 666,668 -> 666,67, total 4 000,01.
    assert lines_of(entries[0]) == [
        ("411A", D("4000.01"), D("0.00")),
        ("706000", D("0.00"), D("3333.34")),
        ("445710", D("0.00"), D("666.67")),
    ]
    # B: 5 333,33 + 1 066,67 = 6 400,00; C: 7 333,33 + 1 466,67 = 8 800,00.
    assert lines_of(entries[1])[0] == ("411B", D("6400.00"), D("0.00"))
    assert lines_of(entries[2])[0] == ("411C", D("8800.00"), D("0.00"))
    first = entries[0]
    assert (first.journal_code, first.year, first.number, first.reference) == (
        "VT", 2026, 1, "VT2026-000001"
    )
    assert [entry.number for entry in entries] == [1, 2, 3]
    assert (first.entry_date, first.piece_ref, first.piece_date) == (
        date(2026, 2, 5), "2026-0001", date(2026, 2, 5)
    )
    assert first.validated_by == "compta@test.fr"
    assert first.label == "Facture 2026-0001 – Les Jardins de la Dombes"
    # The member is on its 411 line (the FEC's auxiliary account), created with its name.
    assert first.lines[0].member_id == issued[0].member_id
    account = db.scalars(select(Account).where(Account.number == "411A")).one()
    assert (account.label, account.member_id) == ("Les Jardins de la Dombes", issued[0].member_id)
    assert first.lines[1].service_id == issued[0].lines[0].service_id


def test_an_invoice_is_posted_once(db, issued) -> None:
    post_invoice(db, issued[0])
    with pytest.raises(AlreadyPosted):
        post_invoice(db, issued[0])


def test_a_credit_note_is_the_invoice_entry_reversed(db, issued) -> None:
    post_invoice(db, issued[0])
    note = create_credit_note(db, issued[0], reason="Erreur de clé", amount=D("1000.00"),
                              issue_date=date(2026, 2, 10))  # fmt: skip
    entry = post_invoice(db, note)
    # 1 000,00 excl. tax + 200,00 VAT credited to A.
    assert lines_of(entry) == [
        ("411A", D("0.00"), D("1200.00")),
        ("706000", D("1000.00"), D("0.00")),
        ("445710", D("200.00"), D("0.00")),
    ]
    assert (entry.journal_code, entry.number, entry.source_type) == ("VT", 2, "credit_note")
    assert entry.label.startswith(f"Avoir {note.number}")


def test_a_payment_debits_the_bank_and_credits_the_member(db, issued) -> None:
    payment = record_payment(db, member=issued[1].member, paid_on=date(2026, 3, 2),
                             amount=D("6500.00"), reference="VIR 123",
                             today=date(2026, 3, 31))  # fmt: skip
    entry = post_payment(db, payment)
    # The 100,00 above what B owed stays on its 411 as a credit.
    assert lines_of(entry) == [("512000", D("6500.00"), D("0.00")),
                               ("411B", D("0.00"), D("6500.00"))]  # fmt: skip
    assert (entry.journal_code, entry.number, entry.piece_ref) == ("BQ", 1, "VIR 123")
    assert entry.lines[1].member_id == issued[1].member_id


def test_a_cost_is_posted_when_recorded(db, billing) -> None:
    # The fixture recorded 16 000,00 of salaries (641100) on 31 January 2026.
    cost = db.scalars(select(Cost)).one()
    (entry,) = entries_of(db, "cost", cost.id)
    assert lines_of(entry) == [("641100", D("16000.00"), D("0.00")),
                               ("401000", D("0.00"), D("16000.00"))]  # fmt: skip
    assert (entry.journal_code, entry.entry_date) == ("HA", date(2026, 1, 31))
    assert entry.lines[0].service_id == billing.compta.id


def test_a_subsidy_goes_to_od_against_441(db, billing) -> None:
    subsidy = add_cost(db, CostInput(CostKind.SUBSIDY, billing.compta.id, date(2026, 1, 15),
                                     D("4000.00"), "740000", "FSE"))  # fmt: skip
    (entry,) = entries_of(db, "subsidy", subsidy.id)
    assert entry.journal_code == "OD"
    assert lines_of(entry) == [("441000", D("4000.00"), D("0.00")),
                               ("740000", D("0.00"), D("4000.00"))]  # fmt: skip


def test_a_changed_cost_is_reversed_and_posted_again(db, billing) -> None:
    cost = db.scalars(select(Cost)).one()
    data = CostInput(CostKind.COST, billing.compta.id, date(2026, 1, 31), D("15000.00"),
                     "641100", "Salaires")  # fmt: skip
    update_cost(db, cost, data)
    original, reversal, new = entries_of(db, "cost", cost.id)
    assert reversal.reverses_id == original.id
    assert lines_of(reversal) == [("641100", D("0.00"), D("16000.00")),
                                  ("401000", D("16000.00"), D("0.00"))]  # fmt: skip
    assert lines_of(new)[0] == ("641100", D("15000.00"), D("0.00"))
    assert [original.number, reversal.number, new.number] == [1, 2, 3]
    # Saving it again unchanged writes nothing more.
    update_cost(db, cost, data)
    assert len(entries_of(db, "cost", cost.id)) == 3


def test_a_deleted_cost_leaves_its_entry_and_a_reversal(db, billing) -> None:
    cost = db.scalars(select(Cost)).one()
    cost_id = cost.id
    delete_cost(db, cost)
    original, reversal = entries_of(db, "cost", cost_id)
    assert reversal.reverses_id == original.id
    assert reversal.label.startswith("Contrepassation HA2026-000001")
    with pytest.raises(AlreadyPosted):
        reverse_entry(db, original, reason="deux fois")


def test_posting_in_a_closed_period_is_refused(db, billing) -> None:
    close_period(db, billing.period)
    cost = db.scalars(select(Cost)).one()
    with pytest.raises(PeriodClosed):
        reverse_entry(db, entries_of(db, "cost", cost.id)[0], reason="trop tard")


def test_every_posting_is_audited(db, issued) -> None:
    entry = post_invoice(db, issued[0])
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "journal_entries", AuditEvent.object_id == str(entry.id)
        )
    ).one()
    assert event.action == "post"
    assert event.after == {"reference": "VT2026-000001", "source": f"invoice:{issued[0].id}",
                           "total": "4000.01"}  # fmt: skip


def test_a_validated_entry_refuses_changes_through_the_orm(db, billing) -> None:
    entry = db.scalars(select(JournalEntry)).first()
    entry.label = "Autre libellé"
    with pytest.raises(EntryImmutable):
        db.flush()


def test_a_validated_line_refuses_deletion_through_the_orm(db, billing) -> None:
    db.delete(db.scalars(select(JournalLine)).first())
    with pytest.raises(EntryImmutable):
        db.flush()


def test_bulk_changes_of_entries_are_refused(db, billing) -> None:
    with pytest.raises(EntryImmutable):
        db.execute(update(JournalLine).values(label="x"))
    with pytest.raises(EntryImmutable):
        db.execute(delete(JournalEntry))


def test_missing_entries_are_posted_by_the_safety_net(db, issued) -> None:
    pending = unposted_documents(db)
    assert [doc.number for doc in pending["invoice"]] == ["2026-0001", "2026-0002", "2026-0003"]
    assert pending["cost"] == []  # posted when recorded
    assert unposted_counts(db) == {
        "invoice": 3, "credit_note": 0, "payment": 0, "cost": 0, "subsidy": 0
    }
    assert post_missing(db) == 3
    assert all(not docs for docs in unposted_documents(db).values())
    assert set(unposted_counts(db).values()) == {0}
    assert post_missing(db) == 0


def test_the_unposted_counts_are_those_of_the_documents_kind_by_kind(db, issued) -> None:
    """The five counts come back from one statement: each lands on its own kind."""
    from accounting.invoicing.models import Payment

    for amount in ("10.00", "20.00"):  # written without their entries (another path's bug)
        db.add(Payment(member_id=issued[0].member.id, paid_on=date(2026, 3, 2),
                       amount=Decimal(amount)))  # fmt: skip
    db.flush()
    counts = unposted_counts(db)
    assert counts == {"invoice": 3, "credit_note": 0, "payment": 2, "cost": 0, "subsidy": 0}
    assert counts == {kind: len(docs) for kind, docs in unposted_documents(db).items()}


def test_the_ledger_balances_after_everything(db, issued) -> None:
    post_missing(db)
    record = record_payment(db, member=issued[0].member, paid_on=date(2026, 3, 1),
                            amount=D("4000.01"), today=date(2026, 3, 31))  # fmt: skip
    post_payment(db, record)
    totals = select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
    debit, credit = db.execute(totals).one()
    assert debit == credit > 0
