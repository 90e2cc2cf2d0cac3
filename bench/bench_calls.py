"""Benchmarks of issue 19 (the year's cash), beside the bare library doing the same raw work in
the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_calls.py                  # 1 000 members, SQLite
    .venv/bin/python bench/bench_calls.py --members 200    # a smaller run
    python -m bench --only calls                           # through the bench runner

Targets (issue 19): issuing the calls for funds of 1 000 members in under 10 s (compute the
call by the call key, draft, number, seal, post debit 411 / credit 4191, commit) and their
year-end true-up in under 20 s (the year's allocation against the calls, one document per
member, numbered, sealed, posted, the calls moved from 4191 to revenue, commit).

Baseline: SQLAlchemy Core inserting the same number of invoice and line rows in one
transaction (rolled back): the bare inserts the documents cannot avoid.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounting.allocation.runs import set_key  # noqa: E402
from accounting.budgets.budgets import LineInput, save_budget  # noqa: E402
from accounting.budgets.models import LineKind  # noqa: E402
from accounting.costs import CostInput, CostKind, add_cost  # noqa: E402
from accounting.db import utcnow  # noqa: E402
from accounting.invoicing.models import Invoice, InvoiceLine  # noqa: E402
from accounting.org import Carrier, Member, Role, Service, User  # noqa: E402
from accounting.periods import get_or_create_period  # noqa: E402
from app.allocation.services import approve, store_period  # noqa: E402
from app.budgets.usecases import issue_call, run_true_up  # noqa: E402
from app.database import make_engine  # noqa: E402
from app.models import metadata  # noqa: E402
from bench.bench_invoices import siret, timed  # noqa: E402
from timesheets.models import EntryStatus, WorkEntry  # noqa: E402

TARGETS = {"calls": 10.0, "true_up": 20.0}


def build(session: Session, members: int) -> None:
    session.add(Carrier(code="VH", name="Val Horizon", address="12 rue de la Dombes\n01400 X",
                        siret="78289943900015", vat_number="FR81782899439",
                        iban="FR7630006000011234567890189"))
    session.add_all(
        Member(code=f"M{i:04d}", name=f"Adhérent {i}", siret=siret(i),
               address=f"{i} place du Marché\n01330 Villars", joined_on=date(2020, 1, 1),
               left_on=date(2026, 2, 14) if i % 97 == 0 else None)  # some leave: prorated
        for i in range(members)
    )
    service = Service(code="COMPTA", name="Comptabilité / gestion")
    session.add(service)
    session.flush()
    set_key(session, service, "25% equal + 75% hours", date(2026, 1, 1))
    save_budget(session, service, 2026, agreed_on=date(2025, 12, 10), agreed_by="AG",
                lines=[LineInput(LineKind.COST, "641100", Decimal("1200000.00"))])
    add_cost(session, CostInput(CostKind.COST, service.id, date(2026, 6, 30),
                                Decimal("1234567.89"), "641100", "Salaires"))
    staff = User(email="staff@bench.test", name="Staff")
    staff.role_set = {Role.ACCOUNTANT}
    session.add(staff)
    session.flush()
    ids = session.scalars(select(Member.id).order_by(Member.code)).all()
    session.add_all(WorkEntry(staff_id=staff.id, day=date(2026, 1, 5 + i % 20),
                              minutes=30 * (1 + i % 7), member_id=member_id,
                              service_id=service.id, status=EntryStatus.APPROVED.value)
                    for i, member_id in enumerate(ids))
    session.commit()


def bare_inserts(engine, period_id: int, start: date, end: date) -> float:
    def bare() -> None:
        with engine.connect() as conn, conn.begin() as tx:
            ids = conn.execute(select(Member.id)).scalars().all()
            rows = conn.execute(
                insert(Invoice).returning(Invoice.id),
                [{"carrier_id": 1, "member_id": m, "period_id": period_id, "role": "call",
                  "service_start": start, "service_end": end, "kind": "invoice",
                  "status": "draft", "reason": "", "customer_code": "", "customer_name": "",
                  "customer_address": "", "carrier_name": "", "carrier_address": "",
                  "payment_terms_days": 30, "late_penalty_rate": Decimal("12.00"),
                  "vat_exemption_mention": "", "total_excl_tax": Decimal("1.00"),
                  "total_vat": Decimal("0.20"), "total_incl_tax": Decimal("1.20"),
                  "amount_paid": Decimal("0.00"), "amount_credited": Decimal("0.00"),
                  "issued_by": "", "created_at": utcnow()} for m in ids],
            ).scalars().all()
            conn.execute(insert(InvoiceLine), [
                {"invoice_id": i, "position": 1, "service_id": 1, "designation": "x" * 90,
                 "revenue_account": "419100", "amount_excl_tax": Decimal("1.00"),
                 "vat_regime": "standard", "vat_rate": Decimal("20.00"),
                 "vat_amount": Decimal("0.20"), "basis": {"k": "v"}} for i in rows])
            tx.rollback()

    return timed("bare Core insert of the invoices + lines", bare)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as session:
        session.info["actor_label"] = "bench"
        build(session, args.members)
        quarter = get_or_create_period(session, "2026-T1")
        session.commit()
        bare = bare_inserts(engine, quarter.id, quarter.start, quarter.end)
        big = args.members >= 1000
        docs, _ = timed(
            f"issue the calls of {args.members} members (commit)",
            lambda: issue_call(session, "2026-T1", issue_date=date(2026, 1, 2)),
            TARGETS["calls"] if big else None, bare)
        assert len(docs) == args.members
        year = get_or_create_period(session, "2026")
        approve(session, store_period(session, year))
        session.commit()
        result, _ = timed(
            f"true-up of {args.members} members (commit)",
            lambda: run_true_up(session, 2026, issue_date=date(2027, 1, 10)),
            TARGETS["true_up"] if big else None, bare)
        assert len(result.documents) == args.members


if __name__ == "__main__":
    main()
