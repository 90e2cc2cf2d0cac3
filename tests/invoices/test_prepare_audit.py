"""Preparing drafts writes its rows in bulk (Core inserts, not the unit of work): the drafts,
their lines and their audit records must be what the ORM and the audit hook wrote."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from accounting.allocation.models import AllocationLine
from accounting.audit import AuditEvent, snapshot
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.services import prepare_invoices

D = Decimal


def _invoice_events(db):
    return db.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "invoices").order_by(AuditEvent.id)
    ).all()


def test_each_draft_is_audited_with_its_whole_row_then_the_act(db, billing):
    drafts = prepare_invoices(db, billing.period)
    db.flush()
    events = _invoice_events(db)
    creates = [e for e in events if e.action == "create"]
    assert [e.object_id for e in creates] == [str(d.id) for d in drafts]
    db.expire_all()  # compare with the rows as the database holds them
    for event, draft in zip(creates, drafts, strict=True):
        assert event.before is None
        assert event.after == snapshot(draft)
        assert event.after["status"] == "draft" and event.after["number"] is None
    # The act itself comes after its drafts, by the same actor. A 3 333,34 + 666,67, B 5 333,33
    # + 1 066,67, C 7 333,33 + 1 466,67 (VAT 20 % per line, half up) = 19 200,01 TTC.
    assert events[-1].action == "prepare"
    assert events[-1].after == {"period": "2026-01", "drafts": 3, "total": "19200.01"}
    assert {e.actor_label for e in creates} == {events[-1].actor_label}


def test_every_draft_line_is_written_with_its_allocation_line(db, billing):
    drafts = prepare_invoices(db, billing.period)
    rows = db.execute(
        select(Invoice.customer_code, InvoiceLine.position, InvoiceLine.amount_excl_tax,
               InvoiceLine.vat_amount, AllocationLine.member_id, Invoice.member_id)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(AllocationLine, AllocationLine.id == InvoiceLine.allocation_line_id)
        .where(Invoice.id.in_([d.id for d in drafts]))
        .order_by(Invoice.customer_code, InvoiceLine.position)
    ).all()
    assert [row[:4] for row in rows] == [
        ("A", 1, D("3333.34"), D("666.67")),
        ("B", 1, D("5333.33"), D("1066.67")),
        ("C", 1, D("7333.33"), D("1466.67")),
    ]
    assert all(allocated == invoiced for *_, allocated, invoiced in rows)
    # The returned drafts are the session's objects, lines loaded, totals from the lines.
    assert [(d.customer_code, d.total_incl_tax, len(d.lines)) for d in drafts] == [
        ("A", D("4000.01"), 1), ("B", D("6400.00"), 1), ("C", D("8800.00"), 1)]
    assert all(db.get(Invoice, d.id) is d for d in drafts)


def test_preparing_again_replaces_the_drafts_and_audits_both(db, billing):
    first = prepare_invoices(db, billing.period)
    old_ids = [d.id for d in first]
    again = prepare_invoices(db, billing.period)
    db.flush()
    remaining = db.scalars(select(Invoice.id).where(Invoice.period_id == billing.period.id))
    assert sorted(remaining) == sorted(d.id for d in again)
    events = _invoice_events(db)
    assert sorted(e.object_id for e in events if e.action == "delete") == sorted(map(str, old_ids))
    assert [e.object_id for e in events if e.action == "create"] == [
        str(i) for i in old_ids + [d.id for d in again]]
    assert [e.action for e in events].count("prepare") == 2
