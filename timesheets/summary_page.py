"""One page of the time summary, with its totals over every row, aggregated in SQL.

Why: the full summary (:func:`timesheets.summaries.monthly_summary`) groups a month by year,
month, service, member and unit type and turns every group into Python objects: at 1 000
members that is 24 800 groups and 1.1 s for a page that shows 100 rows. Here each month is
asked apart (no per-row year/month extraction in SQL) and grouped by service only, in the
order of the covering index ``ix_work_entries_service_day`` (service, day, member, minutes,
unit type, quantity: migration 0018): the service-month table, the totals and the number of
member rows per service come from that one small aggregate. Only the service-months the page
overlaps are then grouped by member (one service's month: a few hundred groups).

Weighted units are summed in SQL as ``Σ quantity × weight``: exact on both databases (integer
thousandths on SQLite, so millionths for the product; ``numeric`` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from accounting.db import ScaledDecimal
from accounting.org import Member, Service
from timesheets.models import UnitType, WorkEntry
from timesheets.summaries import ZERO_UNITS, ServiceMonth, SummaryRow

#: Σ quantity × weight: three places each, so six for the product.
_UNITS = ScaledDecimal(6, 28)
_COMMON_LABEL = "Travail commun"


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """The rows of one page, the service-months and the totals over every row."""

    start: date
    end: date
    rows: list[SummaryRow]
    services: list[ServiceMonth]
    #: Member × service × month rows over all pages.
    row_count: int
    total_minutes: int
    total_units: Decimal


def month_spans(start: date, end: date) -> list[tuple[date, date]]:
    """The months between ``start`` and ``end``, each clipped to them."""
    spans = []
    first = start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        spans.append((first, min(end, following - timedelta(days=1))))
        first = following
    return spans


def _units(condition: Any = None) -> Any:
    product = WorkEntry.quantity * UnitType.weight
    value = product if condition is None else case((condition, product), else_=None)
    return type_coerce(func.sum(value), _UNITS)


def _filtered(
    query: Any, first: date, last: date, member_id: int | None, service_id: int | None
) -> Any:
    query = query.outerjoin(UnitType, UnitType.id == WorkEntry.unit_type_id).where(
        WorkEntry.day.between(first, last)
    )
    if member_id is not None:
        query = query.where(WorkEntry.member_id == member_id)
    # Every service named (IN the services table when none is chosen): the covering index
    # starts with the service, and SQLite's planner takes the day's index without it (a table
    # read per entry and a sort; the same on a database upgraded without ANALYZE statistics).
    return query.where(
        WorkEntry.service_id == service_id
        if service_id is not None
        else WorkEntry.service_id.in_(select(Service.id))
    )


def service_months(
    session: Session, spans: list[tuple[date, date]], member_id: int | None, service_id: int | None
) -> list[tuple[ServiceMonth, int, int]]:
    """Each service-month with work, its number of members and of common work's entries, in
    the summary's order (one aggregate per month, grouped by service in index order)."""
    common = WorkEntry.member_id.is_(None)
    direct = WorkEntry.member_id.is_not(None)
    found = []
    for first, last in spans:
        query = _filtered(
            select(
                WorkEntry.service_id,
                func.sum(case((direct, WorkEntry.minutes), else_=0)),
                func.sum(case((common, WorkEntry.minutes), else_=0)),
                _units(direct),
                _units(common),
                func.count(WorkEntry.member_id.distinct()),
                func.count() - func.count(WorkEntry.member_id),
            ),
            first,
            last,
            member_id,
            service_id,
        ).group_by(WorkEntry.service_id)
        found += [(first, row) for row in session.execute(query)]
    services = {
        s.id: s
        for s in session.scalars(
            select(Service).where(Service.id.in_({row[0] for _, row in found}))
        )
    }
    out = []
    for first, (
        s_id,
        direct_min,
        common_min,
        direct_units,
        common_units,
        members,
        commons,
    ) in found:
        service = services[s_id]
        item = ServiceMonth(
            year=first.year,
            month=first.month,
            service_id=s_id,
            service_code=service.code,
            service_name=service.name,
            direct_minutes=int(direct_min or 0),
            common_minutes=int(common_min or 0),
            direct_units=direct_units or ZERO_UNITS,
            common_units=common_units or ZERO_UNITS,
        )
        out.append((item, int(members), int(commons)))
    out.sort(key=lambda pair: (pair[0].year, pair[0].month, pair[0].service_code))
    return out


def _member_rows(
    session: Session, overlapped: list[tuple[ServiceMonth, date, date]], member_id: int | None
) -> list[list[SummaryRow]]:
    """Every row of each service-month a page overlaps (a few hundred each), in the summary's
    order: one statement for them all, whatever their number (the page's SQL does not grow)."""
    which = case(
        *(
            (
                and_(WorkEntry.service_id == item.service_id, WorkEntry.day.between(first, last)),
                index,
            )
            for index, (item, first, last) in enumerate(overlapped)
        ),
        else_=None,
    )
    query = _filtered(
        select(which, WorkEntry.member_id, func.sum(WorkEntry.minutes), _units()),
        min(first for _, first, _ in overlapped),
        max(last for *_, last in overlapped),
        member_id,
        None,
    ).where(WorkEntry.service_id.in_({item.service_id for item, *_ in overlapped}))
    grouped = [
        g for g in session.execute(query.group_by(which, WorkEntry.member_id)) if g[0] is not None
    ]
    names = {
        m_id: (code, name)
        for m_id, code, name in session.execute(
            select(Member.id, Member.code, Member.name).where(
                Member.id.in_({g[1] for g in grouped if g[1] is not None})
            )
        )
    }
    out: list[list[SummaryRow]] = [[] for _ in overlapped]
    for index, m_id, minutes, units in grouped:
        item = overlapped[index][0]
        out[index].append(
            SummaryRow(
                year=item.year,
                month=item.month,
                service_id=item.service_id,
                service_code=item.service_code,
                service_name=item.service_name,
                member_id=m_id,
                member_code=names[m_id][0] if m_id is not None else "",
                member_name=names[m_id][1] if m_id is not None else _COMMON_LABEL,
                minutes=int(minutes or 0),
                units=units or ZERO_UNITS,
            )
        )
    for rows in out:
        rows.sort(key=lambda r: (r.member_id is None, r.member_code))
    return out


#: :func:`service_months`'s signature (a cache of it may stand in).
MonthsOf = Callable[
    [Session, list[tuple[date, date]], int | None, int | None], list[tuple[ServiceMonth, int, int]]
]


def summary_page(
    session: Session,
    start: date,
    end: date,
    *,
    page: int,
    size: int,
    member_id: int | None = None,
    service_id: int | None = None,
    months_of: MonthsOf | None = None,
) -> SummaryPage:
    """Rows ``(page - 1) * size`` to ``page * size`` of the summary (the order and values of
    :func:`~timesheets.summaries.monthly_summary`), its service-months and its totals.
    ``months_of``: :func:`service_months` or a cache of it (the web page reuses it per worker
    while the work is unchanged: it is most of the page's time)."""
    spans = month_spans(start, end)
    bounds = {(first.year, first.month): (first, last) for first, last in spans}
    counted = [
        (item, members + (1 if commons else 0))
        for item, members, commons in (months_of or service_months)(
            session, spans, member_id, service_id
        )
    ]
    wanted_from, wanted_to = (page - 1) * size, page * size
    overlapped, offsets = [], []
    offset = 0
    for item, count in counted:
        if offset < wanted_to and offset + count > wanted_from:
            overlapped.append((item, *bounds[(item.year, item.month)]))
            offsets.append(offset)
        offset += count
    rows: list[SummaryRow] = []
    if overlapped:
        for at, every in zip(offsets, _member_rows(session, overlapped, member_id), strict=True):
            rows += every[max(0, wanted_from - at) : wanted_to - at]
    services = [item for item, _ in counted]
    return SummaryPage(
        start,
        end,
        rows,
        services,
        row_count=offset,
        total_minutes=sum(s.total_minutes for s in services),
        total_units=sum((s.direct_units + s.common_units for s in services), ZERO_UNITS),
    )


def heaviest_members(
    session: Session, start: date, end: date, limit: int
) -> tuple[int, list[tuple[int, str, str, dict[int, int], Decimal]]]:
    """The number of members with work between ``start`` and ``end``, and the ``limit`` with
    the most minutes (ties by code): id, code, name, minutes per service id, weighted units.
    Two statements, whatever the number of members (the dashboards' top lists)."""
    # Grouped on the covering index (services named, as in _filtered), members joined after
    # (which leaves common work out: no condition on the member, or SQLite's planner takes
    # the (member, day) index and reads the table per entry, 0.3 s a month at 1 000 members).
    # Grouped on ``member_id + 0``, not the column: grouping on the column, SQLite walks the
    # (member, day) index in member order and reads the table per entry.
    member = (WorkEntry.member_id + 0).label("member_id")
    per_member = (
        select(member, func.sum(WorkEntry.minutes).label("spent"))
        .where(WorkEntry.day.between(start, end), WorkEntry.service_id.in_(select(Service.id)))
        .group_by(member)
        .subquery()
    )
    ranked = session.execute(
        select(per_member.c.member_id, func.count().over())
        .join(Member, Member.id == per_member.c.member_id)
        .order_by(per_member.c.spent.desc(), Member.code)
        .limit(limit)
    ).all()
    if not ranked:
        return 0, []
    ids = [m_id for m_id, _ in ranked]
    detail = session.execute(
        select(WorkEntry.member_id, WorkEntry.service_id, func.sum(WorkEntry.minutes), _units())
        .outerjoin(UnitType, UnitType.id == WorkEntry.unit_type_id)
        .where(WorkEntry.day.between(start, end), WorkEntry.member_id.in_(ids))
        .group_by(WorkEntry.member_id, WorkEntry.service_id)
    ).all()
    names = dict(
        (m_id, (code, name))
        for m_id, code, name in session.execute(
            select(Member.id, Member.code, Member.name).where(Member.id.in_(ids))
        )
    )
    minutes: dict[int, dict[int, int]] = {m_id: {} for m_id in ids}
    units = dict.fromkeys(ids, ZERO_UNITS)
    for m_id, s_id, spent, weighted in detail:
        minutes[m_id][s_id] = int(spent or 0)
        units[m_id] += weighted or ZERO_UNITS
    return int(ranked[0][1]), [(m_id, *names[m_id], minutes[m_id], units[m_id]) for m_id in ids]
