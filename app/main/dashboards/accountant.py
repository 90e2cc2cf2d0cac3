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
from app.allocation import cache
from app.main.dashboards.common import (
    LIST_LIMIT,
    TOP_MEMBERS,
    Span,
    active_in,
    month_of,
    others_label,
    period_label,
)
from timesheets.listing import COMMON_LABEL
from timesheets.models import WorkEntry
from timesheets.summary_page import heaviest_members, month_spans, service_months


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



def _activity(db: Session, month: Span) -> tuple[list[tuple[str, str]], list[MemberActivity]]:
    """The services with work in ``month`` and the rows of the table: the heaviest members
    (their minutes per service and units read for them alone), the others merged (each
    service's direct work less the top members'), then common work. Every figure is an SQL
    aggregate: the month's 14 000 member × service rows at 1 000 members are never built."""
    counted = service_months(db, month_spans(month.start, month.end), None, None)
    code_of = {item.service_id: item.service_code for item, *_ in counted}
    members, top = heaviest_members(db, month.start, month.end, TOP_MEMBERS + 1)
    kept = top if members <= TOP_MEMBERS + 1 else top[:TOP_MEMBERS]
    rows = [
        MemberActivity(m_id, code, name, {code_of[s]: n for s, n in spent.items()}, units)
        for m_id, code, name, spent, units in kept
    ]
    rows.sort(key=lambda r: r.code)
    if members > len(kept):
        minutes = {item.service_code: item.direct_minutes for item, *_ in counted}
        units = sum((item.direct_units for item, *_ in counted), Decimal(0))
        for row in rows:
            units -= row.units
            for code, value in row.minutes.items():
                minutes[code] -= value
        rest = members - len(kept)
        rows.append(MemberActivity(None, "", others_label(rest),
                                   {c: n for c, n in minutes.items() if n}, units, rest))
    common = [item for item, _, commons in counted if commons]
    if common:
        rows.append(MemberActivity(
            None, "", COMMON_LABEL, {i.service_code: i.common_minutes for i in common},
            sum((i.common_units for i in common), Decimal(0))))
    services = {item.service_code: item.service_name for item, *_ in counted}
    return sorted(services.items()), rows


def accountant_board(db: Session, day: date) -> AccountantBoard:
    """Everybody's work of the month of ``day`` per member and service (the timesheets
    summary's figures), the active members with no entry that month, and the draft invoices."""
    month = month_of(day)
    services, rows = cache.board(db, ("accountant", month.start, month.end),
                                 lambda: _activity(db, month))

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
        services=services,
        rows=rows,
        idle_members=[(c, n) for c, n in idle],
        idle_count=int(idle_count),
        draft_invoices=draft_invoices,
    )
