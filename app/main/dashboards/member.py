"""The member accountant's board: their own member's figures over a span of months they
choose (by default the twelve months up to their latest figure, not up to today: a cluster
may look at a past year), and never the cluster's.

What it holds: their share of each service by period (approved runs), the documents the
cluster sent them (invoices, credit notes, calls for funds), the payments they made, their
balance, and the year's cash: calls, what was paid of them, the expected true-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select, union
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine, AllocationRun, RunStatus
from accounting.budgets.statement import MemberYear, member_year
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus, PaymentMethod
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import MONTHS_FR, Period
from app.main.dashboards.common import UNPAID, month_of, months_back, period_label

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: Documents listed at most on the board (the invoices page has them all).
DOCUMENTS_LIMIT = 50


@dataclass(frozen=True)
class MemberSpan:
    """The months the board shows, both inclusive (``start`` is a 1st, ``end`` a last day)."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """« janvier 2025 – décembre 2025 », « mars 2025 » for one month."""
        first = f"{MONTHS_FR[self.start.month - 1]} {self.start.year}"
        last = f"{MONTHS_FR[self.end.month - 1]} {self.end.year}"
        return first if first == last else f"{first} – {last}"


@dataclass(frozen=True)
class PaymentRow:
    paid_on: date
    amount: Decimal
    method: str
    reference: str


@dataclass
class MemberBoard:
    member: Member
    span: MemberSpan
    #: Years with a figure of the member (allocation, document or payment), newest first.
    years: list[int]
    services: list[tuple[str, str]]
    #: (period label, amounts per service code), oldest first.
    months: list[tuple[str, dict[str, Decimal]]]
    #: Documents billing the span's periods (whenever issued), newest first.
    documents: list[Invoice]
    payments: list[PaymentRow]
    #: Over every document ever issued, whatever the span: what is left to pay.
    due: Decimal
    overdue: Decimal
    next_due: date | None
    #: The calls for funds of the span's last year, what was paid of them, the true-up.
    cash: MemberYear | None = None

    @property
    def since(self) -> date:
        return self.span.start

    @property
    def invoices(self) -> list[Invoice]:
        return self.documents

    @property
    def allocated(self) -> Decimal:
        """The member's own share over the span (never the cluster's total)."""
        return sum((sum(a.values(), ZERO) for _, a in self.months), ZERO)

    @property
    def invoiced(self) -> Decimal:
        """Invoices minus credit notes billing the span's periods (incl. tax)."""
        return sum(
            (
                -d.total_incl_tax if d.kind == InvoiceKind.CREDIT_NOTE.value else d.total_incl_tax
                for d in self.documents
            ),
            ZERO,
        )

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)


def _month(text: str | None) -> date | None:
    match = _MONTH.match(text or "")
    if match and 1 <= int(match[2]) <= 12 and 2000 <= int(match[1]) <= 2100:
        return date(int(match[1]), int(match[2]), 1)
    return None


def _latest_day(db: Session, member_id: int) -> date | None:
    """The latest day the member has a figure: an approved share, a document, a payment."""
    shared, issued, paid = db.execute(_latest_days(), {"member_id": member_id}).one()
    # Payments are cash, dated apart from what they settle: they choose the span only for a
    # member with nothing billed yet.
    days = [d for d in (shared, issued) if d is not None] or [d for d in (paid,) if d]
    return max(days) if days else None


@cache
def _latest_days() -> Select[tuple[date | None, date | None, date | None]]:
    """The member's latest approved share, document and payment, in one statement built once
    (the board is every member accountant's home page: three round trips were one each)."""
    member_id = bindparam("member_id")
    shared = (
        select(func.max(Period.end))
        .join(AllocationRun, AllocationRun.period_id == Period.id)
        .join(AllocationLine, AllocationLine.run_id == AllocationRun.id)
        .where(
            AllocationLine.member_id == member_id,
            AllocationRun.status == RunStatus.APPROVED.value,
        )
    )
    # A document counts for the months it bills, not the day it was issued: an invoice of
    # Q4 2025 issued in 2026 must land in the same span as the share it bills.
    issued = (
        select(func.max(Period.end))
        .join(Invoice, Invoice.period_id == Period.id)
        .where(Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value)
    )
    paid = select(func.max(Payment.paid_on)).where(Payment.member_id == member_id)
    return select(shared.scalar_subquery(), issued.scalar_subquery(), paid.scalar_subquery())


def choose_span(
    db: Session, member_id: int, today: date, start: str | None = None, end: str | None = None
) -> MemberSpan:
    """The months asked for (``du``/``au``, ``2025-01``), else the twelve months up to the
    member's latest figure (or today, without any); a reversed span is put right."""
    first, last = _month(start), _month(end)
    if last is None:
        latest = _latest_day(db, member_id) or today
        last = min(latest, today).replace(day=1) if first is None else months_back(first, -11)
    if first is None:
        first = months_back(last, 11)
    if first > last:
        first, last = last, first
    return MemberSpan(first, month_of(last).end)


def _years(db: Session, member_id: int) -> list[int]:
    starts = db.scalars(_period_starts(), {"member_id": member_id})
    return sorted({d.year for d in starts}, reverse=True)


@cache
def _period_starts() -> Any:
    """The starts of the periods the member has an approved share or a document of, in one
    statement built once."""
    member_id = bindparam("member_id")
    shared = (
        select(Period.start)
        .join(AllocationRun, AllocationRun.period_id == Period.id)
        .join(AllocationLine, AllocationLine.run_id == AllocationRun.id)
        .where(
            AllocationLine.member_id == member_id,
            AllocationRun.status == RunStatus.APPROVED.value,
        )
    )
    issued = (
        select(Period.start)
        .join(Invoice, Invoice.period_id == Period.id)
        .where(Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value)
    )
    return union(shared, issued)


def _shares(
    db: Session, member_id: int, span: MemberSpan
) -> tuple[list[tuple[str, str]], list[tuple[str, dict[str, Decimal]]]]:
    rows = db.execute(
        select(
            Period.kind, Period.start, Service.code, Service.name, func.sum(AllocationLine.amount)
        )
        .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
        .join(Period, Period.id == AllocationRun.period_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(
            AllocationLine.member_id == member_id,
            AllocationRun.status == RunStatus.APPROVED.value,
            Period.start >= span.start,
            Period.start <= span.end,
        )
        .group_by(Period.kind, Period.start, Service.code, Service.name)
        .order_by(Period.start, Period.kind)
    ).all()
    services: dict[str, str] = {}
    months: dict[tuple[date, str], dict[str, Decimal]] = {}
    for kind, start, s_code, s_name, amount in rows:
        services[s_code] = s_name
        months.setdefault((start, kind), {})[s_code] = amount or ZERO
    return sorted(services.items()), [
        (period_label(kind, start), months[(start, kind)]) for start, kind in sorted(months)
    ]


def _balance(db: Session, member_id: int, today: date) -> tuple[Decimal, Decimal, date | None]:
    outstanding = Invoice.total_incl_tax - Invoice.amount_paid - Invoice.amount_credited
    due, overdue, next_due = db.execute(
        select(
            func.sum(outstanding),
            func.sum(case((Invoice.due_date < today, outstanding), else_=0)),
            func.min(case((Invoice.due_date >= today, Invoice.due_date), else_=None)),
        ).where(
            Invoice.member_id == member_id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status.in_(UNPAID),
        )
    ).one()
    return due or ZERO, overdue or ZERO, next_due


def _cash_year(db: Session, member_id: int, span: MemberSpan) -> int:
    """The fiscal year of the member's latest call or true-up up to the span's end (a true-up
    issued in January is about the year before), else the span's last year."""
    latest = db.scalar(
        select(func.max(Invoice.service_start)).where(
            Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.role.in_(("call", "true_up")), Invoice.service_start <= span.end,
        )
    )
    return latest.year if latest is not None else span.end.year


def member_board(
    db: Session,
    member_id: int,
    today: date,
    start: str | None = None,
    end: str | None = None,
) -> MemberBoard:
    """One member's own figures over the months asked for (see :func:`choose_span`)."""
    member = db.get(Member, member_id)
    assert member is not None
    span = choose_span(db, member_id, today, start, end)
    services, months = _shares(db, member_id, span)
    documents = list(
        db.scalars(
            select(Invoice)
            .join(Period, Period.id == Invoice.period_id)
            .where(
                Invoice.member_id == member_id,
                Invoice.status != InvoiceStatus.DRAFT.value,
                Period.start >= span.start,
                Period.start <= span.end,
            )
            .order_by(Invoice.issue_date.desc(), Invoice.number.desc())
            .limit(DOCUMENTS_LIMIT)
        )
    )
    payments = [
        PaymentRow(p.paid_on, p.amount, PaymentMethod(p.method).label, p.reference)
        for p in db.scalars(
            select(Payment)
            .where(
                Payment.member_id == member_id,
                # Paid in the span, or settling a document of the span's periods.
                or_(
                    Payment.paid_on.between(span.start, span.end),
                    Payment.id.in_(
                        select(PaymentAllocation.payment_id)
                        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                        .join(Period, Period.id == Invoice.period_id)
                        .where(
                            Invoice.member_id == member_id,
                            Period.start.between(span.start, span.end),
                        )
                    ),
                ),
            )
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
        )
    ]
    due, overdue, next_due = _balance(db, member_id, today)
    return MemberBoard(
        member=member,
        span=span,
        years=_years(db, member_id),
        services=services,
        months=months,
        documents=documents,
        payments=payments,
        due=due,
        overdue=overdue,
        next_due=next_due,
        cash=member_year(db, member_id, _cash_year(db, member_id, span), today),
    )
