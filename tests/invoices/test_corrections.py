"""Correcting an invoiced period (DESIGN §4, invariant 10): the lock, reopening with a reason,
superseding the approved run, invoicing the differences, negative totals, payments kept.

The worked example of the invoices fixtures: January 2026, pool 16 000 €, key 25 % equal +
75 % hours, A 10 h, B 20 h, C 30 h → A 3 333,34, B 5 333,33, C 7 333,33 (VAT 20 %).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.allocation.approval import WorkNotValidated
from accounting.allocation.errors import RunError
from accounting.allocation.models import AllocationRun, RunStatus
from accounting.audit import AuditEvent
from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.differences import documented_amounts
from accounting.invoicing.errors import AlreadyInvoiced
from accounting.invoicing.locks import correction_open
from accounting.invoicing.payments import member_balances
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.periods import PeriodLocked, reopen_period
from app.allocation.services import approve, store_period
from app.invoices.usecases import pay
from tests.invoices.conftest import ISSUED_ON, allocated_month
from timesheets.errors import EntryInClosedPeriod
from timesheets.models import EntryStatus, WorkEntry
from timesheets.services import EntryData, create_entry


def D(text: str) -> Decimal:
    return Decimal(text)


def issue(db, period, day=ISSUED_ON):
    prepare_invoices(db, period)
    return issue_invoices(db, period, issue_date=day, issued_by="tresorier@test.fr")


def subsidy(db, billing, amount: str, day: date = date(2026, 1, 20)):
    return add_cost(db, CostInput(CostKind.SUBSIDY, billing.compta.id, day, D(amount),
                                  "740000", "Aide régionale", party="Région"))


def approved_by_member(db, period) -> dict[tuple[int, int], Decimal]:
    from accounting.allocation.runs import approved_run_services
    from accounting.invoicing.differences import approved_amounts

    return {
        pair: line.amount
        for pair, line in approved_amounts(db, approved_run_services(db, period)).items()
    }


def test_an_invoiced_period_refuses_costs_and_work_naming_the_period_and_the_way_out(
    db, billing, make_user
):
    issue(db, billing.period)
    with pytest.raises(PeriodLocked) as refused:
        subsidy(db, billing, "1600.00")
    message = str(refused.value)
    assert "janvier 2026 est facturée" in message and "20/01/2026" in message
    assert "période ouverte" in message and "rouvrez janvier 2026 avec un motif" in message
    staff = make_user("accountant")
    with pytest.raises(EntryInClosedPeriod, match="janvier 2026 est facturée"):
        create_entry(db, staff, EntryData(day=date(2026, 1, 15), service_id=billing.compta.id,
                                          minutes=420, member_id=billing.members["A"].id))
    # the open period next to it takes them
    subsidy(db, billing, "1600.00", day=date(2026, 2, 2))


def test_correcting_an_invoiced_month_ends_with_credit_notes_citing_the_invoices(db, billing):
    first = issue(db, billing.period)
    numbers = {inv.customer_code: inv for inv in first}
    assert [i.total_excl_tax for i in first] == [D("3333.34"), D("5333.33"), D("7333.33")]

    reopen_period(db, billing.period, "subvention régionale de janvier oubliée")
    subsidy(db, billing, "1600.00")  # pool 14 400: A 3 000, B 4 800, C 6 600 exactly
    run = store_period(db, billing.period)
    with pytest.raises(RunError, match="motif écrit"):
        approve(db, run)
    with pytest.raises(RunError, match="motif écrit"):
        approve(db, run, reason="  \t ")
    approve(db, run, reason="Subvention régionale de janvier reçue après la facturation")
    earlier = db.get(AllocationRun, billing.run.id)
    assert earlier.status == RunStatus.REPLACED and earlier.replaced_at is not None
    assert run.replaces_id == earlier.id and run.replace_reason.startswith("Subvention")

    notes = issue(db, billing.period, date(2026, 2, 20))
    assert [(n.kind, n.customer_code, n.total_excl_tax) for n in notes] == [
        (InvoiceKind.CREDIT_NOTE, "A", D("333.34")),
        (InvoiceKind.CREDIT_NOTE, "B", D("533.33")),
        (InvoiceKind.CREDIT_NOTE, "C", D("733.33")),
    ]
    for note in notes:
        cited = numbers[note.customer_code]
        assert note.original_id == cited.id and cited.number in note.reason
        assert note.total_incl_tax == note.total_excl_tax + note.total_vat
        assert cited.amount_credited == note.total_incl_tax
    assert notes[0].number == "2026-0004"  # same series, after the three invoices
    # the documents now add up to the approved run, per member and service
    assert documented_amounts(db, billing.period) == approved_by_member(db, billing.period)
    # the period is locked again, and issuing again has nothing to do
    assert correction_open(db, billing.period) is None
    with pytest.raises(PeriodLocked):
        subsidy(db, billing, "10.00")
    reopen_period(db, billing.period, "vérification")
    with pytest.raises(AlreadyInvoiced, match="déjà facturée"):
        prepare_invoices(db, billing.period)


def test_a_member_owing_more_gets_a_supplementary_invoice_citing_the_first(db, billing):
    first = {inv.customer_code: inv for inv in issue(db, billing.period)}
    reopen_period(db, billing.period, "charge de janvier oubliée")
    add_cost(db, CostInput(CostKind.COST, billing.compta.id, date(2026, 1, 25), D("1600.00"),
                           "606400", "Logiciel"))
    # pool 17 600: exact 3 666,666…, 5 866,666…, 8 066,666…; floors leave 2 cents, equal
    # remainders, ties by code: A and B → A 3 666,67, B 5 866,67, C 8 066,66
    approve(db, store_period(db, billing.period), reason="Charge de logiciel oubliée")
    more = issue(db, billing.period, date(2026, 2, 21))
    assert [(i.kind, i.customer_code, i.total_excl_tax) for i in more] == [
        (InvoiceKind.INVOICE, "A", D("333.33")),
        (InvoiceKind.INVOICE, "B", D("533.34")),
        (InvoiceKind.INVOICE, "C", D("733.33")),
    ]
    assert all(i.corrects_id == first[i.customer_code].id for i in more)
    designation = more[0].lines[0].designation.replace("\u202f", " ").replace("\xa0", " ")
    assert "régularisation : 3 666,67 € selon la répartition approuvée, 3 333,34 €" in designation


def test_a_negative_allocation_is_invoiced_as_credit_notes_never_refused(
    db, make_member, make_service, make_user, carrier
):
    # costs 1 000, subsidy 4 000: pool −3 000; equal part −750 (−250 each), hours −2 250
    # (A −375, B −750, C −1 125): A −625, B −1 000, C −1 375
    _members, compta, period = allocated_month(
        db, make_member, make_service, make_user, net=D("1000.00")
    )
    add_cost(db, CostInput(CostKind.SUBSIDY, compta.id, date(2026, 1, 10), D("4000.00"),
                           "740000", "FSE"))
    approve(db, store_period(db, period))
    notes = issue(db, period)
    assert [(n.kind, n.customer_code, n.total_excl_tax, n.original_id) for n in notes] == [
        (InvoiceKind.CREDIT_NOTE, "A", D("625.00"), None),
        (InvoiceKind.CREDIT_NOTE, "B", D("1000.00"), None),
        (InvoiceKind.CREDIT_NOTE, "C", D("1375.00"), None),
    ]
    assert "négative" in notes[0].reason
    balances = {b.code: b for b in member_balances(db, today=date(2026, 3, 1))}
    assert balances["C"].credit == D("1650.00")  # 1 375 + 20 % VAT, owed to the member


def test_a_correction_after_payment_keeps_the_payment_on_the_invoice_it_paid(db, billing):
    first = {inv.customer_code: inv for inv in issue(db, billing.period)}
    paid = first["A"]
    payment = pay(db, member=billing.members["A"], paid_on=date(2026, 2, 10),
                  amount=paid.total_incl_tax, invoices=[paid], today=date(2026, 2, 10))
    assert paid.status == InvoiceStatus.PAID
    reopen_period(db, billing.period, "subvention oubliée")
    subsidy(db, billing, "1600.00")
    approve(db, store_period(db, billing.period), reason="Subvention oubliée")
    notes = {n.customer_code: n for n in issue(db, billing.period, date(2026, 2, 20))}
    assert [(a.invoice_id, a.amount) for a in payment.allocations] == [
        (paid.id, paid.total_incl_tax)
    ]
    assert paid.amount_paid == paid.total_incl_tax
    assert paid.amount_credited == notes["A"].total_incl_tax
    balance = member_balances(db, member_id=billing.members["A"].id, today=date(2026, 3, 1))[0]
    assert balance.credit == notes["A"].total_incl_tax  # 333,34 + VAT now owed to A


def test_unvalidated_work_blocks_approval_unless_a_written_reason_overrides(db, billing):
    run = store_period(db, billing.period)
    approve(db, run, reason="correction")  # replaces the fixture's run: validated work
    entry = db.scalars(select(WorkEntry)).first()
    entry.status = EntryStatus.SUBMITTED.value
    db.flush()
    other = store_period(db, billing.period)
    with pytest.raises(WorkNotValidated, match="1 saisie"):
        approve(db, other, reason="encore")
    with pytest.raises(WorkNotValidated):
        approve(db, other, reason="encore", work_override="   ")
    approve(db, other, reason="encore", work_override="Saisie vérifiée par téléphone")
    assert other.work_override == "Saisie vérifiée par téléphone"
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "override")).one()
    assert audit.after["reason"] == "Saisie vérifiée par téléphone"


def test_a_replaced_run_cannot_be_approved_again(db, billing):
    newer = store_period(db, billing.period)
    approve(db, newer, reason="recalcul")
    with pytest.raises(RunError, match="remplacée"):
        approve(db, db.get(AllocationRun, billing.run.id), reason="retour")

