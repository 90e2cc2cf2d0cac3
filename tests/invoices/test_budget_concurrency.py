"""Two true-ups of the same year at once on PostgreSQL (DESIGN §5b), real commits on a database
of their own: one issues the documents, the other is refused with a clear message and writes
nothing (the unique (year, round) of the true-up and the series lock); each member's documents
then add up to its actual allocation of the year."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.budgets.budgets import LineInput, save_budget
from accounting.budgets.calls import issue_calls
from accounting.budgets.errors import TrueUpRefused
from accounting.budgets.models import LineKind, TrueUp
from accounting.budgets.trueup import true_up
from accounting.invoicing.models import Invoice
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period
from tests.invoices.conftest import postgres_worked_example

JANUARY = date(2026, 1, 1)


@pytest.fixture
def engine(fresh_db_url: str):
    engine, session, compta = postgres_worked_example(
        fresh_db_url, "two true-ups at once is a PostgreSQL test (row locks, unique constraint "
        "between connections); SQLite has a single writer")
    with session:
        save_budget(session, compta, 2026, agreed_on=date(2025, 12, 1), agreed_by="AG",
                    lines=[LineInput(LineKind.COST, "641100", Decimal("12000.00"))])
        issue_calls(session, "2026-T1", issue_date=date(2026, 1, 2))
        approve(session, store_period(session, get_or_create_period(session, "2026")))
        session.commit()
    yield engine
    engine.dispose()


def test_two_true_ups_at_once_issue_one_set_of_documents(engine) -> None:
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def run() -> None:
        with Session(engine) as session:
            session.info["actor_label"] = "trésorier"
            barrier.wait(timeout=30)
            try:
                result = true_up(session, 2026, issue_date=date(2027, 1, 5))
                session.commit()
                outcome.append(f"{len(result.documents)} documents")
            except TrueUpRefused as error:
                session.rollback()
                outcome.append(str(error))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert "3 documents" in outcome
    refused = next(o for o in outcome if o != "3 documents")
    assert "Une autre régularisation de 2026" in refused or "Rien à régulariser" in refused
    with Session(engine) as session:
        assert session.scalar(select(func.count(TrueUp.id))) == 1
        totals = dict(session.execute(
            select(Invoice.customer_code, func.sum(Invoice.total_excl_tax))
            .where(Invoice.role.in_(("call", "true_up"))).group_by(Invoice.customer_code)
        ).all())
        # DESIGN §4's worked example over the year: A 3 333,34, B 5 333,33, C 7 333,33.
        assert {k: Decimal(v) for k, v in totals.items()} == {
            "A": Decimal("3333.34"), "B": Decimal("5333.33"), "C": Decimal("7333.33")}
