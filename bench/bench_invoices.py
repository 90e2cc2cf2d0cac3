"""Benchmarks of issue 5 (invoices), each beside the bare library doing the same raw work in the
same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_invoices.py                       # both, 1 000 invoices, SQLite
    .venv/bin/python bench/bench_invoices.py --members 200 issue   # some of: issue zip
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python \\
        bench/bench_invoices.py --database-url "$DATABASE_URL"      # on a scratch PostgreSQL db

Targets (issue 5): issuing 1 000 invoices in under 10 s (prepare the drafts from the approved
allocation, then issue them as the app does through ``app.invoices.usecases.issue_period``:
number, snapshot, seal in the hash chain, post the sales journal entries, commit; the target is
checked on prepare + issue together); the ZIP of 1 000 Excel invoices in under 60 s.

Baselines: for ``issue``, SQLAlchemy Core inserting the same invoice and line rows in one
transaction (rolled back); for ``zip``, openpyxl writing the same number of cells per workbook,
without styles, into the same kind of ZIP.

The data is built through the domain (members with valid SIRET, one service, an equal key, a
cost, a stored then approved allocation run) in a fresh database each run.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402
from stdnum import luhn  # noqa: E402

from accounting.allocation.runs import set_key  # noqa: E402
from accounting.costs import CostInput, CostKind, add_cost  # noqa: E402
from accounting.db import utcnow  # noqa: E402
from accounting.invoicing.models import Invoice, InvoiceLine  # noqa: E402
from accounting.invoicing.services import issue_invoices, prepare_invoices  # noqa: E402
from accounting.org import Carrier, Member, Service  # noqa: E402
from accounting.periods import get_or_create_period  # noqa: E402
from accounting.workbooks.invoice import write_invoices_zip  # noqa: E402
from app.allocation.services import approve, store_period  # noqa: E402
from app.database import make_engine  # noqa: E402
from app.invoices.usecases import issue_period  # noqa: E402
from app.models import metadata  # noqa: E402

TARGETS = {"issue": 10.0, "zip": 60.0}


def siret(n: int) -> str:
    siren = f"{100000000 + n * 7:09d}"[:8]
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    for nic in range(10):
        candidate = body + str(nic)
        if luhn.is_valid(candidate):
            return candidate
    raise AssertionError("no SIRET")  # pragma: no cover


def build(session: Session, members: int) -> None:
    carrier = Carrier(code="VH", name="Val Horizon", address="12 rue de la Dombes\n01400 X",
                      siret="78289943900015", vat_number="FR81782899439",
                      iban="FR7630006000011234567890189")
    session.add(carrier)
    session.add_all(
        Member(code=f"M{i:04d}", name=f"Adhérent {i}", siret=siret(i),
               address=f"{i} place du Marché\n01330 Villars", joined_on=date(2020, 1, 1))
        for i in range(members)
    )
    service = Service(code="COMPTA", name="Comptabilité / gestion")
    session.add(service)
    session.flush()
    period = get_or_create_period(session, "2026-01")
    add_cost(session, CostInput(CostKind.COST, service.id, date(2026, 1, 31),
                                Decimal("1234567.89"), "641100", "Salaires"))
    set_key(session, service, "equal", date(2026, 1, 1))
    run = store_period(session, period)
    approve(session, run, work_override="synthetic work, not validated entry by entry")
    session.commit()


def timed(label: str, action, target: float | None = None, baseline: float | None = None):
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    parts = [f"{label:<44} {seconds:8.2f} s"]
    if target is not None:
        parts.append(f"target < {target:.0f} s ({'OK' if seconds < target else 'MISSED'})")
    if baseline:
        parts.append(f"ratio to bare {seconds / baseline:5.1f}x")
    print("  ".join(parts), flush=True)
    return result, seconds


def bench_issue(engine, members: int) -> None:
    with Session(engine) as session:
        period = get_or_create_period(session, "2026-01")

        def bare() -> None:
            # The same rows, straight through Core, then thrown away.
            with engine.connect() as conn, conn.begin() as tx:
                ids = conn.execute(select(Member.id)).scalars().all()
                rows = conn.execute(
                    insert(Invoice).returning(Invoice.id),
                    [{"carrier_id": 1, "member_id": m, "period_id": period.id,
                      "service_start": period.start, "service_end": period.end,
                      "kind": "invoice", "status": "draft", "reason": "",
                      "customer_code": "", "customer_name": "", "customer_address": "",
                      "carrier_name": "", "carrier_address": "", "payment_terms_days": 30,
                      "late_penalty_rate": Decimal("12.00"), "vat_exemption_mention": "",
                      "total_excl_tax": Decimal("1.00"), "total_vat": Decimal("0.20"),
                      "total_incl_tax": Decimal("1.20"), "amount_paid": Decimal("0.00"),
                      "amount_credited": Decimal("0.00"), "issued_by": "",
                      "created_at": utcnow()} for m in ids],
                ).scalars().all()
                conn.execute(insert(InvoiceLine), [
                    {"invoice_id": i, "position": 1, "service_id": 1, "designation": "x" * 90,
                     "revenue_account": "706000", "amount_excl_tax": Decimal("1.00"),
                     "vat_regime": "standard", "vat_rate": Decimal("20.00"),
                     "vat_amount": Decimal("0.20"), "basis": {"k": "v"}} for i in rows])
                tx.rollback()

        _, bare_seconds = timed(f"bare Core insert of {members} invoices + lines", bare)

        def prepare() -> None:
            prepare_invoices(session, period)
            session.commit()

        def issue() -> list[str]:
            issued = issue_period(session, period, issue_date=date(2026, 2, 5))
            numbers = [i.number for i in issued]  # read before the commit expires them
            session.commit()
            return numbers

        _, prepared = timed(f"prepare {members} drafts from the allocation (commit)", prepare)
        numbers, issued = timed(f"issue {members} drafts: number, seal, post (commit)", issue)
        target = TARGETS["issue"] if members >= 1000 else None
        total = prepared + issued
        verdict = "" if target is None else (
            f"  target < {target:.0f} s ({'OK' if total < target else 'MISSED'})")
        print(f"{'prepare + issue':<44} {total:8.2f} s{verdict}  ratio to bare "
              f"{total / bare_seconds:5.1f}x", flush=True)
        assert len(numbers) == members and numbers[-1] == f"2026-{members:04d}"


def bench_zip(engine, members: int) -> None:
    with Session(engine) as session:
        invoices = session.scalars(
            select(Invoice).where(Invoice.status != "draft").order_by(Invoice.sequence)
            .options(selectinload(Invoice.lines), selectinload(Invoice.original))
        ).all()
        if len(invoices) < members:
            prepare_invoices(session, get_or_create_period(session, "2026-01"))
            issue_invoices(session, get_or_create_period(session, "2026-01"),
                           issue_date=date(2026, 2, 5))
            session.commit()
            invoices = session.scalars(
                select(Invoice).where(Invoice.status != "draft").order_by(Invoice.sequence)
                .options(selectinload(Invoice.lines), selectinload(Invoice.original))
            ).all()

        def bare() -> int:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
                for n, _ in enumerate(invoices):
                    book = Workbook()
                    for r in range(60):  # about the cells of the document and its annex
                        book.active.append([f"texte {r}", 1, Decimal("3333.34"), 20, 1.5, 2])
                    with archive.open(f"{n}.xlsx", "w") as member:
                        book.save(member)
            return buffer.tell()

        _, bare_seconds = timed(f"bare openpyxl: {len(invoices)} plain workbooks in a zip", bare)

        def ours() -> int:
            buffer = io.BytesIO()
            count = write_invoices_zip(invoices, buffer)
            print(f"  zip size {buffer.tell() / 1e6:.1f} MB", flush=True)
            return count

        count, _ = timed(f"ZIP of {len(invoices)} Excel invoices", ours,
                         TARGETS["zip"] if members >= 1000 else None, bare_seconds)
        assert count == len(invoices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="*", help="issue, zip (default: both)")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--database-url", help="A PostgreSQL server URL: a scratch database "
                        "is created on it and dropped afterwards (default: a SQLite file).")
    args = parser.parse_args()
    which = args.which or ["issue", "zip"]
    if set(which) - {"issue", "zip"}:
        parser.error("choose among: issue zip")
    scratch = None
    if args.database_url:
        name = f"bench_invoices_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.database_url).set(database=name).render_as_string(False)
        scratch = (admin, name)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
        print(f"database: {engine.dialect.name}; members: {args.members}", flush=True)
        with Session(engine) as session:
            timed(f"build (members, approved allocation of {args.members})",
                  lambda: build(session, args.members))
        if "issue" in which:
            bench_issue(engine, args.members)
        if "zip" in which:
            bench_zip(engine, args.members)
    finally:
        engine.dispose()
        if scratch is not None:
            admin, name = scratch
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()


if __name__ == "__main__":
    main()
