"""Two true-ups of the same year at once on PostgreSQL (DESIGN §5b), real commits on a database
of their own: one issues the documents, the other is refused with a clear message and writes
nothing (the unique (year, round) of the true-up and the series lock); each member's documents
then add up to its actual allocation of the year."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.allocation.runs import set_key
from accounting.budgets.budgets import LineInput, save_budget
from accounting.budgets.calls import issue_calls
from accounting.budgets.errors import TrueUpRefused
from accounting.budgets.models import LineKind, TrueUp
from accounting.budgets.trueup import true_up
from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.models import Invoice
from accounting.org import Carrier, Member, Role, Service, User
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period
from app.database import make_engine
from app.models import metadata
from tests.conftest import TEST_PASSWORD, is_postgres
from tests.invoices.conftest import CARRIER_SIRET, SIRETS
from timesheets.models import EntryStatus, WorkEntry

JANUARY = date(2026, 1, 1)


@pytest.fixture
def engine(fresh_db_url: str):
    if not is_postgres(fresh_db_url):
        pytest.skip("two true-ups at once is a PostgreSQL test (row locks, unique constraint "
                    "between connections); SQLite has a single writer")
    engine = make_engine(fresh_db_url, pool_size=6)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        session.add(Carrier(code="VH", name="Val Horizon", address="Châtillon",
                            siret=CARRIER_SIRET, vat_number="FR81782899439"))
        compta = Service(code="COMPTA", name="Comptabilité / gestion")
        staff = User(email="tresorier@test.fr", name="Trésorier")
        staff.role_set = {Role.TREASURER, Role.ACCOUNTANT, Role.ADMIN}
        staff.set_password(TEST_PASSWORD)
        members = [Member(code=code, name=f"Adhérent {code}", siret=siret, address="Villars",
                          joined_on=date(2020, 1, 1)) for code, siret in SIRETS.items()]
        session.add_all([compta, staff, *members])
        session.flush()
        add_cost(session, CostInput(CostKind.COST, compta.id, date(2026, 1, 31),
                                    Decimal("16000.00"), "641100", "Salaires"))
        for index, member in enumerate(members):  # 10 h, 20 h, 30 h
            for extra in range(index + 1):
                session.add(WorkEntry(staff_id=staff.id,
                                      day=JANUARY + timedelta(days=3 * index + extra),
                                      minutes=600, member_id=member.id, service_id=compta.id,
                                      status=EntryStatus.APPROVED.value))
        set_key(session, compta, "25% equal + 75% hours", JANUARY)
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
