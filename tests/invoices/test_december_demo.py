"""The demo's December 2025 (DESIGN §4): the 9 000 € subsidy makes the development pool
negative; four members end with a negative total. It used to be a dead end (« Une facture ne
peut pas être négative »); now the run is approved (its 106 unvalidated entries with a written
override), and issuing gives those members credit notes and the others invoices, dated in
January 2026 with the fiscal-year confirmation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from accounting.allocation.models import AllocationRun, RunStatus
from accounting.allocation.runs import approved_run_services
from accounting.invoicing.amounts import InvoiceKind
from accounting.invoicing.differences import approved_amounts, documented_amounts
from accounting.invoicing.models import Invoice
from accounting.org import Carrier, Member
from accounting.periods import Period
from app.cli import cli

TREASURER = {"MUTUALISE_USER": "tresorier@valhorizon.example"}
ACCOUNTANT = {"MUTUALISE_USER": "comptable@valhorizon.example"}


def test_the_december_demo_case_is_invoiced_as_credit_notes(runner, db):
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    blocked = runner.invoke(cli, ["allocate", "2025-12", "--approve"], env=TREASURER)
    assert blocked.exit_code == 1 and "ne sont pas validées" in blocked.output
    approved = runner.invoke(cli, ["allocate", "2025-12", "--approve", "--override-unvalidated",
                                   "Temps de décembre relus en réunion"], env=TREASURER)
    assert approved.exit_code == 0, approved.output
    assert "Negative total: " in approved.output
    no_date = runner.invoke(cli, ["invoices", "issue", "2025-12", "--date", "2026-01-10"],
                            env=ACCOUNTANT)
    assert no_date.exit_code == 1 and "--confirm-year" in no_date.output
    issued = runner.invoke(cli, ["invoices", "issue", "2025-12", "--date", "2026-01-10",
                                 "--confirm-year"], env=ACCOUNTANT)
    assert issued.exit_code == 0, issued.output
    db.expire_all()

    period = db.scalars(select(Period).where(Period.kind == "month",
                                             Period.start == date(2025, 12, 1))).one()
    run = db.scalars(select(AllocationRun).where(AllocationRun.period_id == period.id)).one()
    assert run.status == RunStatus.APPROVED
    assert run.work_override == "Temps de décembre relus en réunion"
    carrier_member = db.scalar(select(Carrier.member_id))
    lines = approved_amounts(db, approved_run_services(db, period), exclude_member=carrier_member)
    totals: dict[int, Decimal] = {}
    for (member_id, _), line in lines.items():
        totals[member_id] = totals.get(member_id, Decimal("0.00")) + line.amount
    negative = {m for m, total in totals.items() if total < 0}
    assert len(negative) >= 1  # the development pool is negative: some members owe nothing
    documents = db.scalars(select(Invoice).where(Invoice.period_id == period.id)).all()
    notes = {d.member_id: d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE}
    assert set(notes) == negative
    for member_id, note in notes.items():
        assert note.total_excl_tax == -totals[member_id] and note.original_id is None
        assert note.number is not None and note.issue_date.isoformat() == "2026-01-10"
    invoices = {d.member_id for d in documents if d.kind == InvoiceKind.INVOICE}
    assert invoices == {m for m, total in totals.items() if total > 0}
    assert carrier_member not in invoices | set(notes)
    assert {k: v for k, v in documented_amounts(db, period).items() if v} == {
        k: line.amount for k, line in lines.items() if line.amount
    }
    codes = dict(db.execute(select(Member.id, Member.code)).all())
    assert "SOLSTISS" in {codes[m] for m in notes}
