"""The filtered, sorted and paginated list of work entries, its totals, the rows of its
exports, and what the filters and forms offer.

Design, for a list that stays fast on a million entries:

- one aggregate ``SELECT`` gives the totals of the whole filtered set (count, minutes, and the
  quantity of each unit type, weighted here): no ``GROUP BY``, read from the covering index
  ``(day, status, unit_type_id, minutes, quantity)`` for the usual month;
- the page is a "deferred join": the ids of the page are chosen from the narrow index (with
  only the join its sort needs), then the 50 rows are read with every column they show, so
  ``OFFSET`` and sorting never drag whole rows along;
- one :func:`_entries` builds the joins shared by the page and the exports, and the WHERE of
  the filter with the user's member scope always applied (a member accountant sees their
  member's entries only);
- members come with a count: up to :data:`MEMBER_SELECT_LIMIT` they are listed for a select,
  beyond it the pages offer a text input that suggests them on demand
  (:func:`member_suggestions`) and read back what was typed (:func:`member_by_reference`).

Exports stream the same query (``yield_per``) so 100 000 rows never sit in memory at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from accounting.authz import Action
from accounting.org import Member, Service, User
from timesheets.errors import InvalidEntry
from timesheets.models import Activity, EntryStatus, UnitType, WorkEntry
from timesheets.services import LOG_WORK, member_scope

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

#: What each sort orders by, and the join it needs to pick a page's ids (None: no join).
_SORT_KEYS: dict[str, tuple[Any, Any]] = {
    "day": (WorkEntry.day, None),
    "staff": (_staff.name, (_staff, _staff.id == WorkEntry.staff_id)),
    "member": (Member.code, (Member, Member.id == WorkEntry.member_id)),
    "service": (Service.code, (Service, Service.id == WorkEntry.service_id)),
    "activity": (Activity.name, (Activity, Activity.id == WorkEntry.activity_id)),
    "minutes": (WorkEntry.minutes, None),
    "status": (WorkEntry.status, None),
}


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


def _entries(*columns: Any) -> Select[Any]:
    """``columns`` of work entries with their staff, service, member, activity and unit type
    (the joins of the list and of the exports, written once)."""
    return (
        select(*columns)
        .select_from(WorkEntry)
        .join(_staff, _staff.id == WorkEntry.staff_id)
        .join(Service, Service.id == WorkEntry.service_id)
        .outerjoin(Member, Member.id == WorkEntry.member_id)
        .outerjoin(Activity, Activity.id == WorkEntry.activity_id)
        .outerjoin(UnitType, UnitType.id == WorkEntry.unit_type_id)
    )


#: The columns of a row of the list page.
_PAGE_COLUMNS = (
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


_QUANTITY = WorkEntry.__table__.c.quantity.type


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
    """Count, minutes and weighted units of the whole filtered set (not just the page), in one
    aggregate query grouped by unit type (a few rows), weighted here. (One CASE column per unit
    type cost more to build and compile than to run once a cluster had dozens of them.)"""
    groups = session.execute(
        select(
            WorkEntry.unit_type_id,
            func.count(),
            func.coalesce(func.sum(WorkEntry.minutes), 0),
            type_coerce(func.sum(WorkEntry.quantity), _QUANTITY),
        )
        .where(and_(True, *conditions(user, entry_filter)))
        .group_by(WorkEntry.unit_type_id)
    ).all()
    summed = {unit_id: quantity for unit_id, _, _, quantity in groups
              if unit_id is not None and quantity}  # fmt: skip
    weights: dict[int, Decimal] = dict(
        session.execute(
            select(UnitType.id, UnitType.weight).where(UnitType.id.in_(summed))
        ).all()
    ) if summed else {}
    units = sum(
        (Decimal(quantity) * weights[unit_id] for unit_id, quantity in summed.items()),
        Decimal("0.000"),
    )
    return Totals(
        count=sum(count for _, count, _, _ in groups),
        minutes=int(sum(minutes for _, _, minutes, _ in groups)),
        units=units,
    )


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
    descending = sort.startswith("-")
    column, join = _SORT_KEYS[name]
    # Common work (no member) and entries without an activity sort as the smallest values on
    # both databases (PostgreSQL would put NULL last when ascending, SQLite first).
    order = [column.desc().nulls_last() if descending else column.asc().nulls_first()]
    if name != "day":
        order.append(WorkEntry.day.desc())
    order.append(WorkEntry.id.desc() if descending else WorkEntry.id.asc())
    summed = totals(session, user, entry_filter)
    pages = max(1, math.ceil(summed.count / per_page))
    page = min(max(1, page), pages)
    ids = select(WorkEntry.id).where(and_(True, *conditions(user, entry_filter)))
    if join is not None:
        ids = ids.outerjoin(*join)
    ids = ids.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    rows = session.execute(
        _entries(*_PAGE_COLUMNS).where(WorkEntry.id.in_(ids.scalar_subquery())).order_by(*order)
    ).all()
    return EntryPage(rows, summed, page, per_page, sort)


def latest_day(session: Session, user: User, entry_filter: EntryFilter) -> date | None:
    """The last day with an entry matching the filter's other criteria, whatever its dates
    (an empty page offers to show that period instead of a bare "nothing here")."""
    undated = replace(entry_filter, start=None, end=None)
    return session.scalar(
        select(func.max(WorkEntry.day)).where(and_(True, *conditions(user, undated)))
    )


STATUS_LABELS = {status.value: status.label for status in EntryStatus}


def export_rows(
    session: Session, user: User, entry_filter: EntryFilter, *, chunk: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Rows of the export, streamed in date order: (day, staff name, staff email, member code,
    member name, service code, activity, minutes, unit type, quantity, note, status label)."""
    query = (
        _entries(
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
        .where(and_(True, *conditions(user, entry_filter)))
        .order_by(WorkEntry.day, _staff.name, WorkEntry.id)
        .execution_options(yield_per=chunk)
    )
    labels = STATUS_LABELS
    # On the connection, not the session: the rows are plain columns, and the ORM's loading
    # of each row cost about 1 s of a month at 1 000 members (75 000 rows).
    for row in session.connection().execute(query):
        yield (*row[:11], labels.get(row[11], row[11]))


# ---------------------------------------------------------------- choices

#: Up to this many members (in the user's scope), pages list them in a select; beyond, a text
#: input suggests them on demand (a page never renders a thousand options).
MEMBER_SELECT_LIMIT = 60
#: How a member is shown in selects and suggestions, and typed back: "CODE — Name".
MEMBER_SEPARATOR = " — "
#: What the user types (or picks) for common work in a member text input.
COMMON_LABEL = "Travail commun"


@dataclass(slots=True)
class Choices:
    """What the filters and forms offer (ids and labels)."""

    staff: list[tuple[int, str]] = field(default_factory=list)
    members: list[tuple[int, str]] = field(default_factory=list)
    services: list[tuple[int, str]] = field(default_factory=list)
    activities: list[tuple[int, int, str]] = field(default_factory=list)
    unit_types: list[tuple[int, int, str]] = field(default_factory=list)
    #: Members in the user's scope; ``members`` is empty when they are above the limit asked.
    member_count: int = 0

    @property
    def members_listed(self) -> bool:
        """True when ``members`` holds them all (a select); False: use a text input."""
        return len(self.members) == self.member_count


def _members(user: User, action: Action | None = None) -> Select[Any]:
    query = select(Member.id, Member.code, Member.name).order_by(Member.code)
    scope = member_scope(user, action)
    return query if scope is None else query.where(Member.id == scope)


def _label(code: str, name: str) -> str:
    return f"{code}{MEMBER_SEPARATOR}{name}"


def choices(
    session: Session, user: User, *, active_only: bool = False, member_limit: int | None = None
) -> Choices:
    """Staff, members (within the user's scope; none when there are more than
    ``member_limit``), services, activities and unit types."""
    services = select(Service.id, Service.code, Service.name).order_by(Service.code)
    activities = select(Activity.id, Activity.service_id, Activity.name).order_by(Activity.name)
    unit_types = select(UnitType.id, UnitType.service_id, UnitType.name).order_by(UnitType.name)
    if active_only:
        services = services.where(Service.active.is_(True))
        activities = activities.where(Activity.active.is_(True))
        unit_types = unit_types.where(UnitType.active.is_(True))
    staff = select(User.id, User.name).order_by(User.name)
    members: list[tuple[int, str]] = []
    # The forms that log work (active items only) offer the members the user may log for.
    action = LOG_WORK if active_only else None
    count = session.scalar(select(func.count()).select_from(_members(user, action).subquery()))
    count = count or 0
    if member_limit is None or count <= member_limit:
        rows = session.execute(_members(user, action))
        members = [(mid, _label(code, name)) for mid, code, name in rows]
    return Choices(
        staff=[(uid, name) for uid, name in session.execute(staff)],
        members=members,
        services=[(sid, _label(code, name)) for sid, code, name in session.execute(services)],
        activities=[tuple(row) for row in session.execute(activities)],
        unit_types=[tuple(row) for row in session.execute(unit_types)],
        member_count=count,
    )


def member_suggestions(session: Session, user: User) -> list[str]:
    """Every member in the user's scope as "CODE — Name", for a text input's suggestions."""
    return [_label(code, name) for _id, code, name in session.execute(_members(user))]


def member_labels(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """ "CODE — Name" of the given members (the rows of a week grid, a filter's member)."""
    wanted = {member_id for member_id in ids if member_id}
    if not wanted:
        return {}
    query = select(Member.id, Member.code, Member.name).where(Member.id.in_(wanted))
    return {mid: _label(code, name) for mid, code, name in session.execute(query)}


def member_by_reference(session: Session, text: str) -> int | str | None:
    """The member a user typed or picked: an id (from a select), "CODE — Name" (from the
    suggestions) or a code, in any case; :data:`COMMON` for common work ("common" or
    "Travail commun"); None for nothing typed. Raises :class:`InvalidEntry` for a member that
    does not exist. The user's scope is not applied here: the rules that use the member do it
    (and say "not your member" rather than "unknown")."""
    text = text.strip()
    if not text:
        return None
    if text.lower() in (COMMON, COMMON_LABEL.lower()):
        return COMMON
    if not text.isprintable() or len(text) > 200:  # a NUL byte: PostgreSQL refuses it
        raise InvalidEntry("Adhérent illisible : choisissez-le dans la liste proposée.")
    by_code = select(Member.id).where(
        func.upper(Member.code) == text.split(MEMBER_SEPARATOR, 1)[0].strip().upper()
    )
    found = None
    # A select's value (an id); a code made of digits otherwise. ASCII and 32-bit only:
    # "²".isdigit() is true and int("²") raises; a longer number is no id of ours.
    if text.isascii() and text.isdigit() and int(text) <= 2**31 - 1:
        found = session.scalar(select(Member.id).where(Member.id == int(text)))
    if found is None:
        found = session.scalar(by_code)
    if found is None:
        raise InvalidEntry(f"Adhérent inconnu « {text} » : choisissez-le dans la liste proposée.")
    return found
