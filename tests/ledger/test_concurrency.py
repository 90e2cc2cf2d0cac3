"""Several people posting at the same moment on PostgreSQL: real transactions on real
connections, committed or rolled back. A journal's numbers stay unique and gapless, and every
committed entry passed the deferred balance check."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.costs import CostInput, CostKind, add_cost
from accounting.ledger.account_days import AccountDay, drift
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.org import Service
from app.database import make_engine
from app.models import metadata
from tests.conftest import is_postgres

WRITERS = 6


@pytest.fixture
def engine(fresh_db_url: str):
    if not is_postgres(fresh_db_url):
        pytest.skip("row locks (SELECT ... FOR UPDATE) between connections are a PostgreSQL "
                    "test; SQLite has a single writer and is covered by the other tests")
    engine = make_engine(fresh_db_url, pool_size=WRITERS + 1)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as session:
        session.add(Service(code="COMPTA", name="Comptabilité / gestion"))
        session.commit()
    yield engine
    engine.dispose()


def _post(engine, index: int, barrier: threading.Barrier, outcome: dict, commit: bool) -> None:
    with Session(engine) as session:
        service_id = session.scalar(select(Service.id))
        barrier.wait(timeout=30)
        amount = Decimal(f"{100 + index}.00")
        add_cost(session, CostInput(CostKind.COST, service_id, date(2026, 3, 1), amount,
                                    "606400", f"Achat {index}"))  # fmt: skip
        if commit:
            session.commit()
            outcome.setdefault("committed", []).append(index)
        else:
            session.rollback()


def test_concurrent_postings_number_the_journal_without_gap_nor_double(engine) -> None:
    barrier = threading.Barrier(WRITERS)
    outcome: dict = {}
    threads = [
        threading.Thread(target=_post, args=(engine, i, barrier, outcome, i % 3 != 0))
        for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    committed = len(outcome["committed"])
    assert committed == 4  # writers 1, 2, 4 and 5; 0 and 3 rolled back
    with Session(engine) as session:
        numbers = session.scalars(select(JournalEntry.number).where(JournalEntry.journal_code ==
                                                                    "HA")).all()  # fmt: skip
        assert sorted(numbers) == [1, 2, 3, 4]
        debit, credit = session.execute(
            select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        ).one()
        assert debit == credit == sum(Decimal(f"{100 + i}.00") for i in outcome["committed"])
        # Every posting added to the same daily total (606400 on 1/03) at once: none lost, and
        # the rolled-back ones left nothing (accounting.ledger.account_days).
        assert drift(session) == []
        assert session.execute(
            select(AccountDay.debit, AccountDay.credit)
            .where(AccountDay.account == "606400", AccountDay.day == date(2026, 3, 1))
        ).one() == (debit, Decimal("0.00"))
