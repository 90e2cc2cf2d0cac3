"""The filtered, sorted and paginated list of work entries, its totals, and the rows of its
exports.

Design: one Core ``SELECT`` with the joins the list shows, ``LIMIT/OFFSET`` for the page, and
one aggregate ``SELECT`` for the totals of the whole filtered set (count, minutes, work units by
unit type), so a page costs two queries whatever its size. The member scope of the user is
always applied (a member accountant sees their member's entries only). Exports stream the same
query (``yield_per``) so 100 000 rows never sit in memory at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from accounting.org import Member, Service, User
from timesheets.models import Activity, EntryStatus, UnitType, WorkEntry
from timesheets.services import member_scope

#: ``member`` filter value meaning "common work only".
COMMON = "common"
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class EntryFilter:
    start: date | None = None
    end: date | None = None
    staff_id: int | None = None
    #: A member id, or :data:`COMMON` for common work only.
    member: int | str | None = None
    service_id: int | None = None
    activity_id: int | None = None
    status: str | None = None


#: Sort keys offered by the list (``-`` prefix: descending).
SORTS = ("day", "staff", "member", "service", "activity", "minutes", "status")

_staff = aliased(User, name="staff")


def _sort_column(name: str) -> Any:
    return {
        "day": WorkEntry.day,
        "staff": _staff.name,
        "member": Member.code,
        "service": Service.code,
        "activity": Activity.name,
        "minutes": WorkEntry.minutes,
        "status": WorkEntry.status,
    }[name]


def conditions(user: User, entry_filter: EntryFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter, the user's member scope included."""
    f = entry_filter
    where: list[ColumnElement[bool]] = []
    scope = member_scope(user)
    if scope is not None:
        where.append(WorkEntry.member_id == scope)
    if f.start:
        where.append(WorkEntry.day >= f.start)
    if f.end:
        where.append(WorkEntry.day <= f.end)
    if f.staff_id:
        where.append(WorkEntry.staff_id == f.staff_id)
    if f.member == COMMON:
        where.append(WorkEntry.member_id.is_(None))
    elif f.member:
        where.append(WorkEntry.member_id == int(f.member))
    if f.service_id:
        where.append(WorkEntry.service_id == f.service_id)
    if f.activity_id:
        where.append(WorkEntry.activity_id == f.activity_id)
    if f.status:
        where.append(WorkEntry.status == f.status)
    return where


def _rows_query(user: User, entry_filter: EntryFilter) -> Select[Any]:
    return (
        select(
            WorkEntry.id,
            WorkEntry.day,
            _staff.name.label("staff_name"),
            _staff.email.label("staff_email"),
            WorkEntry.staff_id,
            WorkEntry.member_id,
            Member.code.label("member_code"),
            Member.name.label("member_name"),
            Service.code.label("service_code"),
            Service.name.label("service_name"),
            Activity.name.label("activity_name"),
            WorkEntry.minutes,
            UnitType.name.label("unit_name"),
            WorkEntry.quantity,
            WorkEntry.note,
            WorkEntry.status,
            WorkEntry.review_comment,
        )
        .join(_staff, _staff.id == WorkEntry.staff_id)
        .join(Service, Service.id == WorkEntry.service_id)
        .outerjoin(Member, Member.id == WorkEntry.member_id)
        .outerjoin(Activity, Activity.id == WorkEntry.activity_id)
        .outerjoin(UnitType, UnitType.id == WorkEntry.unit_type_id)
        .where(and_(True, *conditions(user, entry_filter)))
    )


@dataclass(slots=True)
class Totals:
    count: int = 0
    minutes: int = 0
    #: Σ quantity × weight.
    units: Decimal = Decimal("0.000")


@dataclass(slots=True)
class EntryPage:
    rows: list[Any]
    totals: Totals
    page: int
    per_page: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.totals.count / self.per_page))


def totals(session: Session, user: User, entry_filter: EntryFilter) -> Totals:
    """Count, minutes and weighted units of the whole filtered set (not just the page)."""
    where = conditions(user, entry_filter)
    grouped = session.execute(
        select(
            WorkEntry.unit_type_id,
            func.count(),
            func.coalesce(func.sum(WorkEntry.minutes), 0),
            func.sum(WorkEntry.quantity),
        )
        .where(and_(True, *where))
        .group_by(WorkEntry.unit_type_id)
    ).all()
    result = Totals()
    weights: dict[int, Decimal] = {}
    if any(unit_type_id is not None for unit_type_id, *_ in grouped):
        weights = dict(session.execute(select(UnitType.id, UnitType.weight)).all())
    for unit_type_id, count, minutes, quantity in grouped:
        result.count += count
        result.minutes += int(minutes)
        if unit_type_id is not None and quantity is not None:
            result.units += Decimal(quantity) * weights[unit_type_id]
    return result


def list_entries(
    session: Session,
    user: User,
    entry_filter: EntryFilter,
    *,
    sort: str = "-day",
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> EntryPage:
    """One page of the filtered list, sorted, with the totals of the whole filtered set."""
    name = sort.lstrip("-")
    if name not in SORTS:
        sort, name = "-day", "day"
    column = _sort_column(name)
    order = [column.desc() if sort.startswith("-") else column.asc()]
    if name != "day":
        order.append(WorkEntry.day.desc())
    order.append(WorkEntry.id.desc() if sort.startswith("-") else WorkEntry.id.asc())
    summed = totals(session, user, entry_filter)
    pages = max(1, math.ceil(summed.count / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        _rows_query(user, entry_filter)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return EntryPage(rows, summed, page, per_page, sort)


@dataclass(frozen=True, slots=True)
class ExportRow:
    day: date
    staff_name: str
    staff_email: str
    member_code: str
    member_name: str
    service_code: str
    activity: str
    minutes: int
    unit: str
    quantity: Decimal | None
    note: str
    status: str


STATUS_LABELS = {status.value: status.label for status in EntryStatus}


def export_rows(
    session: Session, user: User, entry_filter: EntryFilter, *, chunk: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Rows of the export, streamed in date order: (day, staff name, staff email, member code,
    member name, service code, activity, minutes, unit type, quantity, note, status label)."""
    query = (
        select(
            WorkEntry.day,
            _staff.name,
            _staff.email,
            Member.code,
            Member.name,
            Service.code,
            Activity.name,
            WorkEntry.minutes,
            UnitType.name,
            WorkEntry.quantity,
            WorkEntry.note,
            WorkEntry.status,
        )
        .join(_staff, _staff.id == WorkEntry.staff_id)
        .join(Service, Service.id == WorkEntry.service_id)
        .outerjoin(Member, Member.id == WorkEntry.member_id)
        .outerjoin(Activity, Activity.id == WorkEntry.activity_id)
        .outerjoin(UnitType, UnitType.id == WorkEntry.unit_type_id)
        .where(and_(True, *conditions(user, entry_filter)))
        .order_by(WorkEntry.day, _staff.name, WorkEntry.id)
        .execution_options(yield_per=chunk)
    )
    labels = STATUS_LABELS
    for row in session.execute(query):
        yield (*row[:11], labels.get(row[11], row[11]))


@dataclass(slots=True)
class Choices:
    """What the filters and forms offer (ids and labels)."""

    staff: list[tuple[int, str]] = field(default_factory=list)
    members: list[tuple[int, str]] = field(default_factory=list)
    services: list[tuple[int, str]] = field(default_factory=list)
    activities: list[tuple[int, int, str]] = field(default_factory=list)
    unit_types: list[tuple[int, int, str]] = field(default_factory=list)


def choices(session: Session, user: User, *, active_only: bool = False) -> Choices:
    """Staff, members (within the user's scope), services, activities and unit types."""
    scope = member_scope(user)
    members = select(Member.id, Member.code, Member.name).order_by(Member.code)
    if scope is not None:
        members = members.where(Member.id == scope)
    services = select(Service.id, Service.code, Service.name).order_by(Service.code)
    activities = select(Activity.id, Activity.service_id, Activity.name).order_by(Activity.name)
    unit_types = select(UnitType.id, UnitType.service_id, UnitType.name).order_by(UnitType.name)
    if active_only:
        services = services.where(Service.active.is_(True))
        activities = activities.where(Activity.active.is_(True))
        unit_types = unit_types.where(UnitType.active.is_(True))
    staff = select(User.id, User.name).order_by(User.name)
    return Choices(
        staff=[(uid, name) for uid, name in session.execute(staff)],
        members=[(mid, f"{code} — {name}") for mid, code, name in session.execute(members)],
        services=[(sid, f"{code} — {name}") for sid, code, name in session.execute(services)],
        activities=[tuple(row) for row in session.execute(activities)],
        unit_types=[tuple(row) for row in session.execute(unit_types)],
    )
