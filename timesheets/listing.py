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
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select, type_coerce
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


#: The WHERE clause of each criterion of a filter, with its bound parameter (the criterion's
#: name): see :func:`_where`.
_CRITERIA: dict[str, Any] = {
    "scope": lambda: WorkEntry.member_id == bindparam("scope"),
    "start": lambda: WorkEntry.day >= bindparam("start"),
    "end": lambda: WorkEntry.day <= bindparam("end"),
    "staff_id": lambda: WorkEntry.staff_id == bindparam("staff_id"),
    "common": lambda: WorkEntry.member_id.is_(None),
    "member": lambda: WorkEntry.member_id == bindparam("member"),
    "service_id": lambda: WorkEntry.service_id == bindparam("service_id"),
    "activity_id": lambda: WorkEntry.activity_id == bindparam("activity_id"),
    "status": lambda: WorkEntry.status == bindparam("status"),
}


def _where(user: User, entry_filter: EntryFilter) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The criteria a filter uses (its « shape ») and their values, the user's member scope
    included. The list's statements are built once per shape with bound parameters
    (:func:`_criteria`, and the ``functools.cache`` builders below) and executed with the
    values: building a ``select()`` and its cache key on every view cost SQLAlchemy about
    as much CPU as executing it (0.3 ms a statement), for the same SQL."""
    f = entry_filter
    values: dict[str, Any] = {}
    scope = member_scope(user)
    if scope is not None:
        values["scope"] = scope
    values.update((name, getattr(f, name)) for name in ("start", "end", "staff_id")
                  if getattr(f, name))  # fmt: skip
    if f.member == COMMON:
        values["common"] = None
    elif f.member:
        values["member"] = int(f.member)
    values.update((name, getattr(f, name)) for name in ("service_id", "activity_id", "status")
                  if getattr(f, name))  # fmt: skip
    shape = tuple(values)
    values.pop("common", None)  # no parameter: IS NULL
    return shape, values


@cache
def _criteria(shape: tuple[str, ...]) -> ColumnElement[bool]:
    """The WHERE of a filter of this shape (see :func:`_where`)."""
    return and_(True, *(_CRITERIA[name]() for name in shape))


def conditions(user: User, entry_filter: EntryFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter, the user's member scope included, with their values
    (for a statement built on the spot, such as the API's list; the list page's own are built
    once per shape: :func:`_where`)."""
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


@cache
def _totals_statement(shape: tuple[str, ...]) -> Select[Any]:
    return (
        select(
            WorkEntry.unit_type_id,
            func.count(),
            func.coalesce(func.sum(WorkEntry.minutes), 0),
            type_coerce(func.sum(WorkEntry.quantity), _QUANTITY),
        )
        .where(_criteria(shape))
        .group_by(WorkEntry.unit_type_id)
    )


@cache
def _weights_statement() -> Select[Any]:
    return select(UnitType.id, UnitType.weight).where(
        UnitType.id.in_(bindparam("ids", expanding=True))
    )


def totals(session: Session, user: User, entry_filter: EntryFilter) -> Totals:
    """Count, minutes and weighted units of the whole filtered set (not just the page), in one
    aggregate query grouped by unit type (a few rows), weighted here. (One CASE column per unit
    type cost more to build and compile than to run once a cluster had dozens of them.)"""
    shape, values = _where(user, entry_filter)
    groups = session.execute(_totals_statement(shape), values).all()
    summed = {unit_id: quantity for unit_id, _, _, quantity in groups
              if unit_id is not None and quantity}  # fmt: skip
    weights: dict[int, Decimal] = dict(
        session.execute(_weights_statement(), {"ids": list(summed)}).all()
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
    summed = totals(session, user, entry_filter)
    pages = max(1, math.ceil(summed.count / per_page))
    page = min(max(1, page), pages)
    shape, values = _where(user, entry_filter)
    rows = session.execute(
        _page_statement(shape, name, descending),
        {**values, "page_limit": per_page, "page_offset": (page - 1) * per_page},
    ).all()
    return EntryPage(rows, summed, page, per_page, sort)


@cache
def _page_statement(shape: tuple[str, ...], name: str, descending: bool) -> Select[Any]:
    """The rows of one page (a « deferred join », see the module's docstring), sorted by
    ``name``; the page's size and offset are bound parameters."""
    column, join = _SORT_KEYS[name]
    # Common work (no member) and entries without an activity sort as the smallest values on
    # both databases (PostgreSQL would put NULL last when ascending, SQLite first).
    order = [column.desc().nulls_last() if descending else column.asc().nulls_first()]
    if name != "day":
        order.append(WorkEntry.day.desc())
    order.append(WorkEntry.id.desc() if descending else WorkEntry.id.asc())
    ids = select(WorkEntry.id).where(_criteria(shape))
    if join is not None:
        ids = ids.outerjoin(*join)
    ids = ids.order_by(*order).limit(bindparam("page_limit")).offset(bindparam("page_offset"))
    return _entries(*_PAGE_COLUMNS).where(WorkEntry.id.in_(ids.scalar_subquery())).order_by(*order)


def latest_day(session: Session, user: User, entry_filter: EntryFilter) -> date | None:
    """The last day with an entry matching the filter's other criteria, whatever its dates
    (an empty page offers to show that period instead of a bare "nothing here")."""
    shape, values = _where(user, replace(entry_filter, start=None, end=None))
    return session.scalar(_latest_statement(shape), values)


@cache
def _latest_statement(shape: tuple[str, ...]) -> Select[Any]:
    return select(func.max(WorkEntry.day)).where(_criteria(shape))


STATUS_LABELS = {status.value: status.label for status in EntryStatus}


@cache
def _export_statement(shape: tuple[str, ...]) -> Select[Any]:
    return (
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
        .where(_criteria(shape))
        .order_by(WorkEntry.day, _staff.name, WorkEntry.id)
    )


@cache
def _export_head(shape: tuple[str, ...]) -> Select[Any]:
    """The first rows of an export, as many as the bound parameter ``head``."""
    return _export_statement(shape).limit(bindparam("head"))


def export_rows(
    session: Session, user: User, entry_filter: EntryFilter, *, chunk: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Rows of the export, streamed in date order: (day, staff name, staff email, member code,
    member name, service code, activity, minutes, unit type, quantity, note, status label)."""
    shape, values = _where(user, entry_filter)
    query = _export_statement(shape)
    labels = STATUS_LABELS
    # On the connection, not the session: the rows are plain columns, and the ORM's loading
    # of each row cost about 1 s of a month at 1 000 members (75 000 rows).
    connection = session.connection()
    # Most exports (a month, a member) fit in one chunk: read them at once. Streaming
    # (``yield_per``) is a server-side cursor on PostgreSQL, three round trips more (DECLARE,
    # FETCH, CLOSE) for every export; only a larger one pays for it, after this first read.
    head = connection.execute(_export_head(shape), {**values, "head": chunk + 1}).all()
    rows = head if len(head) <= chunk else connection.execute(
        query.execution_options(yield_per=chunk), values
    )
    for row in rows:
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


def _members(user: User, action: Action | None = None) -> tuple[Select[Any], dict[str, int]]:
    """The members in the user's scope (for ``action``): the statement and its values."""
    scope = member_scope(user, action)
    return (_member_statement(False) if scope is None else _member_statement(True),
            {} if scope is None else {"scope": scope})  # fmt: skip


@cache
def _member_statement(scoped: bool) -> Select[Any]:
    query = select(Member.id, Member.code, Member.name).order_by(Member.code)
    return query.where(Member.id == bindparam("scope")) if scoped else query


@cache
def _member_count(scoped: bool) -> Select[Any]:
    return select(func.count()).select_from(_member_statement(scoped).subquery())


@cache
def _choice_statements(active_only: bool) -> tuple[Select[Any], ...]:
    """Staff, services, activities and unit types (the active ones only): built once."""
    services = select(Service.id, Service.code, Service.name).order_by(Service.code)
    activities = select(Activity.id, Activity.service_id, Activity.name).order_by(Activity.name)
    unit_types = select(UnitType.id, UnitType.service_id, UnitType.name).order_by(UnitType.name)
    if active_only:
        services = services.where(Service.active.is_(True))
        activities = activities.where(Activity.active.is_(True))
        unit_types = unit_types.where(UnitType.active.is_(True))
    staff = select(User.id, User.name).order_by(User.name)
    return staff, services, activities, unit_types


def _label(code: str, name: str) -> str:
    return f"{code}{MEMBER_SEPARATOR}{name}"


def choices(
    session: Session, user: User, *, active_only: bool = False, member_limit: int | None = None
) -> Choices:
    """Staff, members (within the user's scope; none when there are more than
    ``member_limit``), services, activities and unit types."""
    staff, services, activities, unit_types = _choice_statements(active_only)
    members: list[tuple[int, str]] = []
    # The forms that log work (active items only) offer the members the user may log for.
    query, values = _members(user, LOG_WORK if active_only else None)
    count = session.scalar(_member_count(bool(values)), values) or 0
    if member_limit is None or count <= member_limit:
        rows = session.execute(query, values)
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
    query, values = _members(user)
    return [_label(code, name) for _id, code, name in session.execute(query, values)]


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
    by_id, by_code = _member_lookups()
    found = None
    # A select's value (an id); a code made of digits otherwise. ASCII and 32-bit only:
    # "²".isdigit() is true and int("²") raises; a longer number is no id of ours.
    if text.isascii() and text.isdigit() and int(text) <= 2**31 - 1:
        found = session.scalar(by_id, {"id": int(text)})
    if found is None:
        code = text.split(MEMBER_SEPARATOR, 1)[0].strip().upper()
        found = session.scalar(by_code, {"code": code})
    if found is None:
        raise InvalidEntry(f"Adhérent inconnu « {text} » : choisissez-le dans la liste proposée.")
    return found


@cache
def _member_lookups() -> tuple[Select[Any], Select[Any]]:
    """A member's id by id and by code (any case), built once: every filtered list asks."""
    return (select(Member.id).where(Member.id == bindparam("id")),
            select(Member.id).where(func.upper(Member.code) == bindparam("code")))  # fmt: skip
