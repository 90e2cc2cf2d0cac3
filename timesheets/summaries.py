"""Summaries of logged work: minutes and weighted work units per member x service x month.

Design: one ``GROUP BY`` in SQL (year, month, service, member, unit type) returns a few hundred
rows even over a million entries; weights (a handful of unit types) and names are joined in
Python afterwards. Weighted units are ``Σ quantity × weight``, exact ``Decimal``.

Common work (entries with no member) is reported per service and month with its share:
``common ÷ (direct + common)`` of the minutes, the fraction that an ``hours`` allocation key
spreads by its ``common_by`` basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from accounting.org import Member, Service
from timesheets.models import EntryStatus, UnitType, WorkEntry

ZERO_UNITS = Decimal("0.000")


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """Work for one member (or common work) on one service in one month."""

    year: int
    month: int
    service_id: int
    service_code: str
    service_name: str
    #: None: common work.
    member_id: int | None
    member_code: str
    member_name: str
    minutes: int
    #: Σ quantity × weight of the work units.
    units: Decimal

    @property
    def month_code(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    """One service in one month: direct and common work, and the share of common work."""

    year: int
    month: int
    service_id: int
    service_code: str
    service_name: str
    direct_minutes: int
    common_minutes: int
    direct_units: Decimal
    common_units: Decimal

    @property
    def month_code(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def total_minutes(self) -> int:
        return self.direct_minutes + self.common_minutes

    @property
    def common_share(self) -> Decimal | None:
        """Percentage of the minutes that are common work (2 places), None with no minutes."""
        if not self.total_minutes:
            return None
        share = Decimal(100 * self.common_minutes) / Decimal(self.total_minutes)
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Summary:
    start: date
    end: date
    rows: list[SummaryRow]
    services: list[ServiceMonth]

    @property
    def total_minutes(self) -> int:
        return sum(row.minutes for row in self.rows)

    @property
    def total_units(self) -> Decimal:
        return sum((row.units for row in self.rows), ZERO_UNITS)


def monthly_summary(
    session: Session,
    start: date,
    end: date,
    *,
    member_id: int | None = None,
    service_id: int | None = None,
    approved_only: bool = False,
) -> Summary:
    """Minutes and weighted units per member × service × month between ``start`` and ``end``.

    ``member_id`` restricts to one member (a member accountant's scope: common work is then
    left out, and so is the share of common work).
    """
    grouped = _grouped(session, start, end, member_id, service_id, approved_only)
    weights = dict(session.execute(select(UnitType.id, UnitType.weight)).all())
    services = {
        s.id: s
        for s in session.scalars(select(Service).where(Service.id.in_({g[2] for g in grouped})))
    }
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(Member.id.in_({g[3] for g in grouped if g[3] is not None}))
        )
    }
    totals: dict[tuple[int, int, int, int | None], list] = {}
    for y, m, s_id, m_id, unit_type_id, minutes, quantity in grouped:
        cell = totals.setdefault((int(y), int(m), s_id, m_id), [0, ZERO_UNITS])
        cell[0] += int(minutes or 0)
        if unit_type_id is not None and quantity is not None:
            cell[1] += Decimal(quantity) * weights[unit_type_id]

    rows, service_months = _summary_rows(totals, services, members)
    return Summary(start, end, rows, service_months)


def _grouped(
    session: Session,
    start: date,
    end: date,
    member_id: int | None,
    service_id: int | None,
    approved_only: bool,
) -> Sequence[Any]:
    """(year, month, service, member, unit type, Σ minutes, Σ quantity) in SQL."""
    year = extract("year", WorkEntry.day)
    month = extract("month", WorkEntry.day)
    query = (
        select(
            year,
            month,
            WorkEntry.service_id,
            WorkEntry.member_id,
            WorkEntry.unit_type_id,
            func.sum(WorkEntry.minutes),
            func.sum(WorkEntry.quantity),
        )
        .where(WorkEntry.day.between(start, end))
        .group_by(year, month, WorkEntry.service_id, WorkEntry.member_id, WorkEntry.unit_type_id)
    )
    if member_id is not None:
        query = query.where(WorkEntry.member_id == member_id)
    if service_id is not None:
        query = query.where(WorkEntry.service_id == service_id)
    if approved_only:
        query = query.where(WorkEntry.status == EntryStatus.APPROVED.value)
    return session.execute(query).all()


def _summary_rows(
    totals: dict[tuple[int, int, int, int | None], list],
    services: dict[int, Service],
    members: dict[int, Member],
) -> tuple[list[SummaryRow], list[ServiceMonth]]:
    """The member × service × month rows, and each service-month's direct and common work."""
    rows: list[SummaryRow] = []
    by_service: dict[tuple[int, int, int], list] = {}
    for (y, m, s_id, m_id), (minutes, units) in totals.items():
        service = services[s_id]
        member = members.get(m_id) if m_id is not None else None
        rows.append(
            SummaryRow(
                year=y,
                month=m,
                service_id=s_id,
                service_code=service.code,
                service_name=service.name,
                member_id=m_id,
                member_code=member.code if member else "",
                member_name=member.name if member else "Travail commun",
                minutes=minutes,
                units=units,
            )
        )
        acc = by_service.setdefault((y, m, s_id), [0, 0, ZERO_UNITS, ZERO_UNITS])
        if m_id is None:
            acc[1] += minutes
            acc[3] += units
        else:
            acc[0] += minutes
            acc[2] += units
    rows.sort(key=lambda r: (r.year, r.month, r.service_code, r.member_id is None, r.member_code))
    service_months = [
        ServiceMonth(
            year=y,
            month=m,
            service_id=s_id,
            service_code=services[s_id].code,
            service_name=services[s_id].name,
            direct_minutes=acc[0],
            common_minutes=acc[1],
            direct_units=acc[2],
            common_units=acc[3],
        )
        for (y, m, s_id), acc in sorted(
            by_service.items(), key=lambda item: (item[0][0], item[0][1], services[item[0][2]].code)
        )
    ]
    return rows, service_months
