"""Two people issuing at the same moment on PostgreSQL: real transactions on real connections,
committed or rolled back. Numbers stay unique and gapless, and a period is issued once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.invoicing.errors import AlreadyInvoiced, NothingToInvoice
from accounting.invoicing.models import Invoice
from accounting.invoicing.services import issue_invoices
from accounting.org import Carrier, Member
from accounting.periods import Period, get_or_create_period
from app.database import make_engine
from app.models import metadata
from tests.conftest import is_postgres
from tests.invoices.conftest import CARRIER_SIRET, SIRETS

ISSUE_DAY = date(2026, 6, 30)
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


@pytest.fixture
def engine(fresh_db_url: str):
    if not is_postgres(fresh_db_url):
        pytest.skip("row locks (SELECT ... FOR UPDATE) between connections are a PostgreSQL "
                    "test; SQLite has a single writer and is covered by the other tests")
    engine = make_engine(fresh_db_url, pool_size=6)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as session:
        session.add(Carrier(code="VH", name="Val Horizon", address="Châtillon",
                            siret=CARRIER_SIRET, vat_number="FR81782899439"))
        members = [
            Member(code=code, name=f"Adhérent {code}", siret=siret, address="Villars",
                   joined_on=date(2020, 1, 1))
            for code, siret in SIRETS.items()
        ]
        session.add_all(members)
        session.flush()
        carrier_id = session.scalar(select(Carrier.id))
        for code in MONTHS:
            period = get_or_create_period(session, code)
            for member in members:  # three drafts per month
                session.add(Invoice(
                    carrier_id=carrier_id, member_id=member.id, period_id=period.id,
                    service_start=period.start, service_end=period.end,
                    total_excl_tax=Decimal("100.00"), total_vat=Decimal("20.00"),
                    total_incl_tax=Decimal("120.00")))
        session.commit()
    yield engine
    engine.dispose()


def _issue(engine, code: str, barrier: threading.Barrier, outcome: dict, *, commit=True):
    with Session(engine, expire_on_commit=False) as session:
        period = session.scalars(select(Period).where(Period.start == _start(code))).one()
        barrier.wait(timeout=30)
        try:
            issued = issue_invoices(session, period, issue_date=ISSUE_DAY)
            numbers = [i.number for i in issued]
            if commit:
                session.commit()
            else:
                session.rollback()
            outcome[code] = numbers
        except (AlreadyInvoiced, NothingToInvoice) as error:
            session.rollback()
            outcome.setdefault("refused", []).append(str(error))


def _start(code: str) -> date:
    return date(int(code[:4]), int(code[5:]), 1)


def _run(engine, jobs):
    barrier = threading.Barrier(len(jobs))
    outcome: dict = {}
    threads = [
        threading.Thread(target=_issue, args=(engine, code, barrier, outcome), kwargs=kw)
        for code, kw in jobs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcome


def test_concurrent_issuers_never_share_a_number_nor_leave_a_gap(engine):
    # Rounds of three issuers at once; one of each round rolls back (its numbers come back).
    rolled_back = []
    for first in range(0, 12, 3):
        a, b, c = MONTHS[first:first + 3]
        outcome = _run(engine, [(a, {}), (b, {}), (c, {"commit": False})])
        assert set(outcome) == {a, b, c}, outcome
        rolled_back.append(c)
    with Session(engine) as session:
        issued = session.scalars(
            select(Invoice).where(Invoice.status == "issued").order_by(Invoice.sequence)
        ).all()
        assert [i.sequence for i in issued] == list(range(1, 25))  # 8 periods × 3, no gap
        assert len({i.number for i in issued}) == 24
        drafts = session.scalars(select(Invoice).where(Invoice.status == "draft")).all()
        assert len(drafts) == 12  # the rolled-back periods kept their drafts, unnumbered
        # Each period's invoices got consecutive numbers: issuers waited for each other.
        by_period: dict[int, list[int]] = {}
        for invoice in issued:
            by_period.setdefault(invoice.period_id, []).append(invoice.sequence)
        assert all(seqs == list(range(seqs[0], seqs[0] + 3)) for seqs in by_period.values())


def test_two_people_issuing_the_same_period_at_once_issue_it_once(engine):
    outcome = _run(engine, [("2026-01", {}), ("2026-01", {})])
    assert outcome["2026-01"] == ["2026-0001", "2026-0002", "2026-0003"]
    assert len(outcome["refused"]) == 1 and "déjà facturée" in outcome["refused"][0]
    with Session(engine) as session:
        assert session.scalar(select(Invoice.number).order_by(Invoice.sequence.desc())
                              .where(Invoice.status == "issued").limit(1)) == "2026-0003"
