"""The accountant's board: hours and weighted work units per member this month, the active
members with no activity, the draft invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import Session

from accounting.invoicing.amounts import InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.money import ZERO
from accounting.org import Member
from accounting.periods import Period
from app.main.dashboards.common import (
    LIST_LIMIT,
    Span,
    active_in,
    month_of,
    others_label,
    period_label,
    top_members,
)
from timesheets.models import WorkEntry
from timesheets.summaries import monthly_summary


@dataclass(frozen=True)
class MemberActivity:
    member_id: int | None
    code: str
    name: str
    #: Minutes per service code.
    minutes: dict[str, int]
    units: Decimal
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())


def _merge_activity(rest: list[MemberActivity]) -> MemberActivity:
    minutes: dict[str, int] = {}
    for r in rest:
        for code, value in r.minutes.items():
            minutes[code] = minutes.get(code, 0) + value
    return MemberActivity(None, "", others_label(len(rest)), minutes,
                          sum((r.units for r in rest), Decimal(0)), len(rest))


@dataclass(frozen=True)
class DraftInvoices:
    period_code: str
    period_label: str
    count: int
    total: Decimal


@dataclass
class AccountantBoard:
    month: Span
    services: list[tuple[str, str]]  # (code, name) of the services with activity
    rows: list[MemberActivity]
    idle_members: list[tuple[str, str]]  # (code, name)
    idle_count: int
    draft_invoices: list[DraftInvoices]

    @property
    def total_minutes(self) -> int:
        return sum(r.total_minutes for r in self.rows)

    @property
    def total_units(self) -> Decimal:
        return sum((r.units for r in self.rows), Decimal("0"))

    def service_minutes(self, code: str) -> int:
        return sum(r.minutes.get(code, 0) for r in self.rows)

    @property
    def draft_count(self) -> int:
        return sum(d.count for d in self.draft_invoices)

    @property
    def draft_total(self) -> Decimal:
        return sum((d.total for d in self.draft_invoices), ZERO)



def accountant_board(db: Session, day: date) -> AccountantBoard:
    """Everybody's work of the month of ``day`` per member and service (the timesheets
    summary), the active members with no entry that month, and the draft invoices."""
    month = month_of(day)
    summary = monthly_summary(db, month.start, month.end)
    by_member: dict[int | None, dict] = {}
    services: dict[str, str] = {}
    for row in summary.rows:
        services[row.service_code] = row.service_name
        acc = by_member.setdefault(
            row.member_id,
            {"code": row.member_code, "name": row.member_name, "minutes": {}, "units": Decimal(0)},
        )
        acc["minutes"][row.service_code] = acc["minutes"].get(row.service_code, 0) + row.minutes
        acc["units"] += row.units
    rows = [
        MemberActivity(m_id, a["code"], a["name"], a["minutes"], a["units"])
        for m_id, a in by_member.items()
    ]
    rows.sort(key=lambda r: (r.member_id is None, r.code))
    rows = top_members(
        [r for r in rows if r.member_id is not None], lambda r: r.total_minutes, _merge_activity
    ) + [r for r in rows if r.member_id is None]

    no_entry = ~exists(
        select(literal(1)).where(
            WorkEntry.member_id == Member.id, WorkEntry.day.between(month.start, month.end)
        )
    )
    idle_query = select(Member.code, Member.name).where(*active_in(month), no_entry)
    idle = db.execute(idle_query.order_by(Member.code).limit(LIST_LIMIT * 3)).all()
    idle_count = db.scalar(select(func.count()).select_from(idle_query.subquery())) or 0

    drafts = db.execute(
        select(Period.kind, Period.start, func.count(Invoice.id), func.sum(Invoice.total_incl_tax))
        .join(Period, Period.id == Invoice.period_id)
        .where(Invoice.status == InvoiceStatus.DRAFT.value)
        .group_by(Period.kind, Period.start)
        .order_by(Period.start)
    ).all()
    draft_invoices = [
        DraftInvoices(
            Period(kind=kind, start=start, end=start).code, period_label(kind, start),
            int(n), total or ZERO,
        )
        for kind, start, n, total in drafts
    ]
    return AccountantBoard(
        month=month,
        services=sorted(services.items()),
        rows=rows,
        idle_members=[(c, n) for c, n in idle],
        idle_count=int(idle_count),
        draft_invoices=draft_invoices,
    )
