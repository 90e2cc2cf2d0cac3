"""Property test with the database (DESIGN invariant 10): after random sequences of costs and
subsidies added or removed, runs approved (superseding), issues and credit notes by hand, one
more approval and issue leave the period's documents equal, per member and service, to the
approved run — to the cent. Each example runs in a savepoint rolled back afterwards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accounting.allocation.runs import approved_run_services
from accounting.costs import CostInput, CostKind, add_cost, delete_cost
from accounting.invoicing.differences import approved_amounts, documented_amounts
from accounting.invoicing.errors import AlreadyInvoiced, NothingToInvoice
from accounting.invoicing.locks import correction_open, is_invoiced
from accounting.invoicing.models import Invoice
from accounting.invoicing.services import LIVE, creditable, prepare_invoices
from accounting.periods import reopen_period
from app.allocation.services import approve, store_period
from app.invoices.usecases import credit_invoice, issue_period

amounts = st.integers(min_value=-400_000, max_value=400_000).map(lambda c: Decimal(c) / 100)
acts = st.lists(
    st.one_of(
        st.tuples(st.just("cost"), amounts),
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("approve"), st.none()),
        st.tuples(st.just("issue"), st.none()),
        st.tuples(st.just("credit"), st.tuples(st.sampled_from("ABC"), amounts)),
    ),
    min_size=1, max_size=8,
)


def _unlock(db, period) -> None:
    if is_invoiced(db, period) and correction_open(db, period) is None:
        reopen_period(db, period, "correction de la période")


def _issue(db, period, day: date) -> None:
    try:
        prepare_invoices(db, period)
    except (AlreadyInvoiced, NothingToInvoice):
        return
    issue_period(db, period, issue_date=day, issued_by="tresorier@test.fr")


def _run(db, billing, sequence) -> None:
    period, day, lines = billing.period, date(2026, 2, 1), []
    for act, value in sequence:
        day += timedelta(days=1)
        if act == "cost":
            _unlock(db, period)
            kind = CostKind.COST if value >= 0 else CostKind.SUBSIDY
            if value:
                lines.append(add_cost(db, CostInput(
                    kind, billing.compta.id, date(2026, 1, 28), abs(value),
                    "606400" if value > 0 else "740000", "Correction",
                )))  # fmt: skip
        elif act == "remove" and lines:
            _unlock(db, period)
            delete_cost(db, lines.pop(value % len(lines)))
        elif act == "approve":
            approve(db, store_period(db, period), reason="correction")
        elif act == "issue":
            _issue(db, period, day)
        elif act == "credit":
            code, amount = value
            invoice = db.scalars(select(Invoice).where(
                Invoice.period_id == period.id, Invoice.customer_code == code,
                Invoice.kind == "invoice", Invoice.status.in_(LIVE),
            ).order_by(Invoice.id)).first()
            if invoice is not None and (left := creditable(db, invoice)) > 0:
                part = min(abs(amount), left) or left
                credit_invoice(db, invoice, reason="geste", amount=part, issue_date=day)
    day += timedelta(days=1)
    approve(db, store_period(db, period), reason="dernière correction")
    _issue(db, period, day)
    approved = {
        pair: line.amount
        for pair, line in approved_amounts(db, approved_run_services(db, period)).items()
        if line.amount
    }
    documented = {k: v for k, v in documented_amounts(db, period).items() if v}
    assert documented == approved


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=acts)
def test_the_documents_add_up_to_the_approved_run_after_any_corrections(db, billing, sequence):
    savepoint = db.begin_nested()
    try:
        _run(db, billing, sequence)
    finally:
        savepoint.rollback()
        db.expire_all()
