"""Property test with the database (DESIGN §5b, invariant 10): whatever the calls issued,
the budget revisions (any catch-up mode), the corrections of the year's allocation and the
true-ups run in between, after a last approval and true-up each member's documents for the
fiscal year (calls, true-ups: invoices − credit notes, excl. tax) add up to its actual
allocation of the year, to the cent. Each example runs in a savepoint rolled back afterwards."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accounting.budgets.budgets import LineInput, save_budget, set_schedule
from accounting.budgets.calls import issue_calls
from accounting.budgets.errors import BudgetError, TrueUpRefused
from accounting.budgets.models import CatchUp, LineKind
from accounting.budgets.trueup import true_up
from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.locks import correction_open, is_invoiced
from accounting.invoicing.models import Invoice
from accounting.periods import get_or_create_period, reopen_period
from app.allocation.services import approve, store_period
from tests.invoices.conftest import allocated_month

D = Decimal
amounts = st.integers(min_value=0, max_value=5_000_000).map(lambda c: D(c) / 100)
signed = st.integers(min_value=-300_000, max_value=300_000).map(lambda c: D(c) / 100)
acts = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.none()),
        st.tuples(st.just("revise"), st.tuples(amounts, st.sampled_from(list(CatchUp)))),
        st.tuples(st.just("correct"), signed),
        st.tuples(st.just("true_up"), st.none()),
    ),
    min_size=1, max_size=7,
)


@pytest.fixture
def budgeted(db, make_member, make_service, make_user, carrier):
    members, compta, _ = allocated_month(db, make_member, make_service, make_user)
    save_budget(db, compta, 2026, agreed_on=date(2025, 12, 10), agreed_by="AG",
                lines=[LineInput(LineKind.COST, "641100", D("12000.00"))])
    return members, compta


def _year_documents(db) -> dict[int, Decimal]:
    result: dict[int, Decimal] = {}
    for doc in db.scalars(select(Invoice).where(Invoice.role.in_(("call", "true_up")))):
        sign = -1 if doc.is_credit_note else 1
        result[doc.member_id] = result.get(doc.member_id, D(0)) + sign * doc.total_excl_tax
    return {m: v for m, v in result.items() if v}


def _run(db, compta, sequence) -> None:
    year = get_or_create_period(db, "2026")
    quarters, day, approved_once = iter(["2026-T1", "2026-T2", "2026-T3", "2026-T4"]), 1, False
    for act, value in sequence:
        day += 1
        if act == "call":
            code = next(quarters, None)
            if code is not None:
                try:
                    issue_calls(db, code, issue_date=date(2026, 1, day))
                except BudgetError as refused:  # a budget revised to nothing: no call
                    assert "Rien à appeler" in str(refused)
        elif act == "revise":
            net, mode = value
            set_schedule(db, 2026, frequency="quarterly", catch_up=mode)
            save_budget(db, compta, 2026, agreed_on=date(2026, 1, day), agreed_by="Bureau",
                        reason="révision", lines=[LineInput(LineKind.COST, "641100", net)])
        elif act == "correct" and value:
            if is_invoiced(db, year) and correction_open(db, year) is None:
                reopen_period(db, year, "correction de l'exercice")
            kind = CostKind.COST if value > 0 else CostKind.SUBSIDY
            add_cost(db, CostInput(kind, compta.id, date(2026, 1, 20), abs(value),
                                   "606400" if value > 0 else "740000", "Correction"))
            approved_once = False
        elif act == "true_up":
            if not approved_once:
                approve(db, store_period(db, year), reason="correction")
                approved_once = True
            with contextlib.suppress(TrueUpRefused):  # nothing to true up: nothing written
                true_up(db, 2026, issue_date=date(2026, 1, day))
    if not approved_once:
        approve(db, store_period(db, year), reason="dernière correction")
    try:
        true_up(db, 2026, issue_date=date(2026, 2, 1))
    except TrueUpRefused as refused:
        assert "Rien à régulariser" in str(refused)
    from accounting.budgets.trueup import year_allocation

    _, target = year_allocation(db, year)
    expected = {}
    for (member_id, _), amount in target.items():
        expected[member_id] = expected.get(member_id, D(0)) + amount
    assert _year_documents(db) == {m: v for m, v in expected.items() if v}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=acts)
def test_after_the_true_up_each_member_is_invoiced_its_actual_year(db, budgeted, sequence):
    savepoint = db.begin_nested()
    try:
        _run(db, budgeted[1], sequence)
    finally:
        savepoint.rollback()
        db.expire_all()
