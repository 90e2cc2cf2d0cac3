"""The member accountant's board: their member's allocation over the last twelve months,
their invoices and what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine, AllocationRun, RunStatus
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import Period
from app.main.dashboards.common import LIST_LIMIT, UNPAID, months_back, period_label


@dataclass
class MemberBoard:
    member: Member
    since: date
    services: list[tuple[str, str]]
    #: (period label, amounts per service code), oldest first.
    months: list[tuple[str, dict[str, Decimal]]]
    invoices: list[Invoice]
    due: Decimal
    overdue: Decimal
    next_due: date | None

    @property
    def allocated(self) -> Decimal:
        return sum((sum(a.values(), ZERO) for _, a in self.months), ZERO)


def member_board(db: Session, member_id: int, today: date) -> MemberBoard:
    """One member's approved allocations over the last twelve months (by period and service),
    their latest issued invoices and credit notes, and what they owe."""
    member = db.get(Member, member_id)
    assert member is not None
    since = months_back(today, 11)
    rows = db.execute(
        select(Period.kind, Period.start, Service.code, Service.name,
               func.sum(AllocationLine.amount))
        .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
        .join(Period, Period.id == AllocationRun.period_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(
            AllocationLine.member_id == member_id,
            AllocationRun.status == RunStatus.APPROVED.value,
            Period.start >= since,
            Period.start <= today,
        )
        .group_by(Period.kind, Period.start, Service.code, Service.name)
        .order_by(Period.start, Period.kind)
    ).all()
    services: dict[str, str] = {}
    months: dict[tuple[date, str], dict[str, Decimal]] = {}
    labels: dict[tuple[date, str], str] = {}
    for kind, start, s_code, s_name, amount in rows:
        services[s_code] = s_name
        months.setdefault((start, kind), {})[s_code] = amount or ZERO
        labels[(start, kind)] = period_label(kind, start)

    invoices = list(
        db.scalars(
            select(Invoice)
            .where(Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value)
            .order_by(Invoice.issue_date.desc(), Invoice.number.desc())
            .limit(LIST_LIMIT)
        )
    )
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
    return MemberBoard(
        member=member,
        since=since,
        services=sorted(services.items()),
        months=[(labels[k], months[k]) for k in sorted(months)],
        invoices=invoices,
        due=due or ZERO,
        overdue=overdue or ZERO,
        next_due=next_due,
    )
