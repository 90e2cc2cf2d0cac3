"""Corrections at the same moment on PostgreSQL (DESIGN §4), real commits on a database of
their own: two approvals superseding at once leave one approved run; two issues of the
differences at once — in two threads, and in two ``mutualise`` processes — leave one set of
documents, adding up to the approved run per member and service."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.errors import RunError
from accounting.allocation.models import AllocationRun, RunStatus
from accounting.allocation.runs import approved_run_services
from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.differences import approved_amounts, documented_amounts
from accounting.invoicing.errors import AlreadyInvoiced, NothingToInvoice
from accounting.invoicing.models import Invoice
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.periods import Period, get_or_create_period, reopen_period
from app.allocation.services import approve, store_period
from tests.invoices.conftest import postgres_worked_example

JANUARY = date(2026, 1, 1)


@pytest.fixture
def engine(fresh_db_url: str):
    engine, session, compta = postgres_worked_example(
        fresh_db_url, "row locks between connections are a PostgreSQL test; SQLite has a "
        "single writer and is covered by the other tests")
    with session:
        period = get_or_create_period(session, "2026-01")
        approve(session, store_period(session, period))
        prepare_invoices(session, period)
        issue_invoices(session, period, issue_date=date(2026, 2, 5))
        reopen_period(session, period, "subvention oubliée")
        add_cost(session, CostInput(CostKind.SUBSIDY, compta.id, date(2026, 1, 20),
                                    Decimal("1600.00"), "740000", "Région"))
        session.commit()
    yield engine
    engine.dispose()


def _period(session: Session) -> Period:
    return session.scalars(select(Period).where(Period.start == JANUARY)).one()


def _threads(*jobs) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"


def _documents_add_up(engine) -> list[Invoice]:
    with Session(engine) as session:
        period = _period(session)
        approved = approved_amounts(session, approved_run_services(session, period))
        assert {k: v for k, v in documented_amounts(session, period).items() if v} == {
            k: line.amount for k, line in approved.items() if line.amount
        }
        return list(session.scalars(select(Invoice).order_by(Invoice.sequence)))


def _store_two_runs(engine) -> list[int]:
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        ids = [store_period(session, _period(session)).id for _ in range(2)]
        session.commit()
    return ids


def test_two_supersedings_at_once_leave_one_approved_run(engine):
    ids = _store_two_runs(engine)
    barrier = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def approve_run(run_id: int) -> None:
        with Session(engine) as session:
            session.info["actor_label"] = f"approver {run_id}"
            run = session.get(AllocationRun, run_id)
            barrier.wait(timeout=30)
            try:
                approve(session, run, reason=f"subvention oubliée ({run_id})")
                session.commit()
                outcome[run_id] = "approved"
            except RunError as error:
                session.rollback()
                outcome[run_id] = str(error)

    _threads(lambda: approve_run(ids[0]), lambda: approve_run(ids[1]))
    assert outcome == {ids[0]: "approved", ids[1]: "approved"}  # one after the other
    with Session(engine) as session:
        statuses = dict(session.execute(select(AllocationRun.id, AllocationRun.status)).all())
        assert sorted(statuses.values()) == ["approved", "replaced", "replaced"]
        last = session.scalars(select(AllocationRun).where(
            AllocationRun.status == RunStatus.APPROVED.value)).one()
        assert last.replaces_id in ids and last.replaces_id != last.id

    # the same run approved twice at once: the second waits, then is told
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        again = store_period(session, _period(session)).id
        session.commit()
    results: list[str] = []

    def approve_same() -> None:
        with Session(engine) as session:
            session.info["actor_label"] = "approver"
            run = session.get(AllocationRun, again)
            barrier.wait(timeout=30)
            try:
                approve(session, run, reason="deux clics")
                session.commit()
                results.append("approved")
            except RunError as error:
                session.rollback()
                results.append(str(error))

    _threads(approve_same, approve_same)
    assert sorted(results) == ["Cette répartition est déjà approuvée.", "approved"]


def test_issuing_the_differences_twice_at_once_gives_one_set_of_documents(engine):
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        period = _period(session)
        approve(session, store_period(session, period), reason="subvention oubliée")
        session.commit()
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def issue() -> None:
        with Session(engine) as session:
            session.info["actor_label"] = "issuer"
            period = _period(session)
            try:
                prepare_invoices(session, period)
                barrier.wait(timeout=30)  # both prepared the same differences
                issued = issue_invoices(session, period, issue_date=date(2026, 2, 20))
                session.commit()
                outcome.append(f"{len(issued)} issued")
            except (AlreadyInvoiced, NothingToInvoice) as error:
                session.rollback()
                outcome.append(f"refused: {error}")

    _threads(issue, issue)
    assert sorted(o[:8] for o in outcome) == ["3 issued", "refused:"]
    documents = _documents_add_up(engine)
    assert [d.kind for d in documents] == ["invoice"] * 3 + ["credit_note"] * 3


def test_two_processes_issuing_at_once_give_one_set_of_documents(engine, fresh_db_url, tmp_path):
    with Session(engine) as session:
        session.info["actor_label"] = "test"
        approve(session, store_period(session, _period(session)), reason="subvention oubliée")
        session.commit()
    mutualise = Path(sys.executable).with_name("mutualise")
    env = dict(os.environ, DATABASE_URL=fresh_db_url, MUTUALISE_INSTANCE=str(tmp_path),
               MUTUALISE_USER="tresorier@test.fr", SECRET_KEY="test")
    command = [str(mutualise), "invoices", "issue", "2026-01", "--date", "2026-02-20"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    codes = sorted(p.returncode for p in processes)
    assert codes == [0, 1], outputs
    assert any("0 invoices and 3 credit notes issued" in o for o in outputs), outputs
    documents = _documents_add_up(engine)
    assert len(documents) == 6
