"""The demo's past months: the first three quarters of the demo year allocated, approved,
invoiced and partly paid, the first one closed.

Without them the treasurer's and the member accountant's pages (dashboards, runs, invoices,
payments, ledger) would start empty. Everything goes through the use cases the pages call
(``app.allocation.services``, ``app.invoices.usecases``), so the runs carry their
explanations and the invoices and payments their ledger entries. The last quarter is left
open and unallocated for a user (and the browser journeys) to walk through the monthly flow.

Idempotent: a quarter with an approved run is not allocated again, a quarter with issued
invoices is not invoiced again, a payment is found by its ``import_key``, a closed quarter
stays closed. Deterministic: fixed dates, amounts derived from the invoices' totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationRun, RunStatus
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.services import (
    draft_invoices,
    period_has_issued_invoices,
    prepare_invoices,
)
from accounting.org import Member, User
from accounting.periods import Period, close_period, get_or_create_period
from app.allocation.services import approve, store_period
from app.demo import DEMO_MEMBER, DEMO_USERS
from app.invoices.usecases import issue_period, pay

#: The quarters allocated, approved and invoiced; the first one is closed too.
QUARTERS = (1, 2, 3)
CLOSED_QUARTERS = (1,)
#: Member owing part of its second-quarter invoice (the demo member accountant's: their page
#: shows what they owe) and member whose third-quarter invoice stays unpaid (overdue).
PARTLY_PAID = DEMO_MEMBER
UNPAID = "DESSICA"


@dataclass
class HistoryReport:
    runs: int = 0
    invoices: int = 0
    payments: int = 0
    closed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.runs or self.invoices or self.payments or self.closed)


def _user(session: Session, role: str) -> User:
    email = next(u.email for u in DEMO_USERS if u.role.value == role)
    return session.scalars(select(User).where(User.email == email)).one()


def _issue_date(year: int, quarter: int) -> date:
    """The 10th of the month after the quarter: invoices follow the approval."""
    return date(year, 3 * quarter + 1, 10)


def _allocate(session: Session, period: Period, admin: User, treasurer: User) -> bool:
    """Store and approve the quarter's run unless one is approved already."""
    approved = session.scalar(
        select(AllocationRun.id).where(
            AllocationRun.period_id == period.id,
            AllocationRun.status == RunStatus.APPROVED.value,
        ).limit(1)
    )
    if approved is not None:
        return False
    run = store_period(session, period, user_id=admin.id, note="Répartition de la démo")
    approve(session, run, user_id=treasurer.id)
    return True


def _invoice(session: Session, period: Period, year: int, quarter: int) -> list[Invoice]:
    """Prepare and issue the quarter's invoices unless some are issued already."""
    if period_has_issued_invoices(session, period):
        return []
    if not draft_invoices(session, period):
        prepare_invoices(session, period)
    return issue_period(
        session, period, issue_date=_issue_date(year, quarter), issued_by="démo"
    )


def _payments(year: int) -> list[tuple[int, str | None, date, Decimal | None]]:
    """(quarter, member code or None for every other member, paid on, fraction paid)."""
    return [
        (1, None, date(year, 5, 6), Decimal(1)),
        (2, None, date(year, 8, 5), Decimal(1)),
        (2, PARTLY_PAID, date(year, 8, 5), Decimal("0.5")),
        (3, None, date(year, 11, 7), Decimal(1)),
    ]


def _pay(session: Session, period: Period, year: int, quarter: int) -> int:
    """Record the quarter's payments (one per member, keyed by import_key): full for most
    members, half for PARTLY_PAID in the second quarter, none for UNPAID in the third."""
    invoices = session.scalars(
        select(Invoice).where(Invoice.period_id == period.id, Invoice.number.is_not(None))
        .order_by(Invoice.number)
    ).all()
    plans = {code: (day, share) for q, code, day, share in _payments(year) if q == quarter}
    recorded = 0
    for invoice in invoices:
        member = session.get(Member, invoice.member_id)
        assert member is not None
        if quarter == 3 and member.code == UNPAID:
            continue
        day, share = plans.get(member.code, plans[None])
        key = f"demo-{year}-T{quarter}-{member.code}"[:64]
        if session.scalar(select(Payment.id).where(Payment.import_key == key)) is not None:
            continue
        amount = (invoice.total_incl_tax * share).quantize(Decimal("0.01"))
        if amount <= 0:
            continue
        pay(
            session, member=member, paid_on=day, amount=amount, reference=f"VIR {invoice.number}",
            invoices=[invoice], import_key=key, today=day,
        )  # fmt: skip
        recorded += 1
    return recorded


def load_history(
    session: Session, year: int, before_quarter: Callable[[int], None] | None = None
) -> HistoryReport:
    """Allocate, approve, invoice and pay the first quarters of ``year``; close the first.
    ``before_quarter(q)`` runs first in each quarter (the cash cycle's calls: app.demo.cash)."""
    report = HistoryReport()
    admin, treasurer = _user(session, "admin"), _user(session, "treasurer")
    for quarter in QUARTERS:
        period = get_or_create_period(session, f"{year}-T{quarter}")
        if period.is_closed:
            continue
        if before_quarter is not None:
            before_quarter(quarter)
        report.runs += _allocate(session, period, admin, treasurer)
        report.invoices += len(_invoice(session, period, year, quarter))
        report.payments += _pay(session, period, year, quarter)
    for quarter in CLOSED_QUARTERS:
        period = get_or_create_period(session, f"{year}-T{quarter}")
        if not period.is_closed:
            close_period(session, period, admin.id)
            report.closed += 1
    return report
