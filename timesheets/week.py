"""The weekly grid: one row per (member or common, service, activity), one cell per day.

Design: a cell shows the minutes of the staff's time entries (those without work units) for
that row and day. Saving the grid compares each cell with what is stored and turns the
differences into creations, updates and deletions, all checked before any is written: the
grid is saved whole or not at all, and every refused cell is reported with its row and day.
A cell backed by several entries, or by an entry that is submitted, approved or in a closed
period, is read-only in the grid (the list edits those).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Service, User
from accounting.periods import Period, PeriodStatus, locked_ranges
from timesheets.errors import InvalidEntry, TimesheetError
from timesheets.models import EntryStatus, WorkEntry
from timesheets.services import (
    EntryData,
    Saved,
    _check_can_change,
    _staff_for,
    check_data,
    check_day_totals,
    week_bounds,
)

DAYS_FR = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


@dataclass(frozen=True, slots=True)
class RowKey:
    """What a grid row stands for."""

    service_id: int
    #: None: common work.
    member_id: int | None
    activity_id: int | None

    def sort_key(self) -> tuple[int, int, int]:
        """Rows by service, common work first, then by member and activity (None sorts
        first: a plain ``<`` between None and an id would fail)."""
        return (self.service_id, self.member_id or 0, self.activity_id or 0)

    def encode(self) -> str:
        """``"3:12:7"`` (empty parts for None): the row's name in a form."""
        return f"{self.service_id}:{self.member_id or ''}:{self.activity_id or ''}"

    @classmethod
    def decode(cls, text: str) -> RowKey:
        try:
            service, member, activity = text.split(":")
            return cls(
                int(service), int(member) if member else None, int(activity) if activity else None
            )
        except ValueError:
            raise InvalidEntry("Ligne de la grille illisible.") from None


@dataclass(slots=True)
class Cell:
    minutes: int = 0
    entry_ids: list[int] = field(default_factory=list)
    #: Not editable in the grid (several entries, not a draft, or a closed period).
    locked: bool = False
    #: The reviewer's comment of a draft that was sent back ("" otherwise).
    comment: str = ""


@dataclass(slots=True)
class GridRow:
    key: RowKey
    cells: list[Cell]

    @property
    def total(self) -> int:
        return sum(cell.minutes for cell in self.cells)


@dataclass(slots=True)
class Week:
    staff_id: int
    monday: date
    rows: list[GridRow]
    #: Minutes of every entry of the staff per day (units entries with minutes included).
    day_totals: list[int]
    #: Days inside a closed period.
    closed: list[bool]

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=index) for index in range(7)]

    @property
    def total(self) -> int:
        return sum(self.day_totals)


@dataclass(frozen=True, slots=True)
class CellError:
    row: int
    #: 0 (Monday) to 6 (Sunday); None for a problem of the whole row or day.
    day: int | None
    message: str


class GridRefused(InvalidEntry):
    """The grid was not saved; ``errors`` names every refused cell."""

    def __init__(self, errors: list[CellError]) -> None:
        self.errors = errors
        super().__init__(
            f"La grille n'a pas été enregistrée : {len(errors)} "
            f"{'erreur' if len(errors) == 1 else 'erreurs'}. "
            + " ".join(error.message for error in errors[:3])
        )


def _closed_days(session: Session, monday: date) -> list[bool]:
    sunday = monday + timedelta(days=6)
    periods = [
        tuple(row)
        for row in session.execute(
            select(Period.start, Period.end).where(
                Period.status == PeriodStatus.CLOSED.value,
                Period.start <= sunday,
                Period.end >= monday,
            )
        )
    ]
    # invoiced periods are locked too (DESIGN §4): shown read-only like closed ones
    periods += [
        (start, end)
        for start, end, _ in locked_ranges(session)
        if start <= sunday and end >= monday
    ]
    days = [monday + timedelta(days=index) for index in range(7)]
    return [any(start <= day <= end for start, end in periods) for day in days]


def load_week(session: Session, staff_id: int, day: date) -> Week:
    """The grid of ``staff_id`` for the week of ``day``."""
    monday, sunday = week_bounds(day)
    closed = _closed_days(session, monday)
    entries = session.execute(
        select(
            WorkEntry.id,
            WorkEntry.day,
            WorkEntry.minutes,
            WorkEntry.service_id,
            WorkEntry.member_id,
            WorkEntry.activity_id,
            WorkEntry.unit_type_id,
            WorkEntry.status,
            WorkEntry.review_comment,
        ).where(WorkEntry.staff_id == staff_id, WorkEntry.day.between(monday, sunday))
    ).all()
    rows: dict[RowKey, GridRow] = {}
    day_totals = [0] * 7
    for (
        entry_id,
        entry_day,
        minutes,
        service_id,
        member_id,
        activity_id,
        unit,
        status,
        comment,
    ) in entries:
        index = (entry_day - monday).days
        day_totals[index] += minutes
        if unit is not None:
            continue
        key = RowKey(service_id, member_id, activity_id)
        row = rows.setdefault(key, GridRow(key, [Cell() for _ in range(7)]))
        cell = row.cells[index]
        cell.minutes += minutes
        cell.entry_ids.append(entry_id)
        if status != EntryStatus.DRAFT or len(cell.entry_ids) > 1:
            cell.locked = True
        if comment and status == EntryStatus.DRAFT:
            cell.comment = f"{cell.comment} ; {comment}" if cell.comment else comment
    for row in rows.values():
        for index, is_closed in enumerate(closed):
            if is_closed:
                row.cells[index].locked = True
    return Week(
        staff_id, monday, sorted(rows.values(), key=lambda r: r.key.sort_key()), day_totals, closed
    )


def usual_service(session: Session, staff_id: int) -> int | None:
    """The service a new row of ``staff_id``'s grid starts with: the service of their most
    recent entry in an active service (a development officer gets the development service,
    an accountant the accounting one); for someone who never logged work, the latest one of
    the colleagues holding the same roles; None when nobody did."""
    own = _latest_service(session, WorkEntry.staff_id == staff_id)
    if own is not None:
        return own
    roles = session.scalar(select(User.roles).where(User.id == staff_id))
    if not roles:
        return None
    # Each colleague's latest entry, found in their own range of ix_work_entries_staff_day,
    # then the latest of those few rows. Asked as one ``staff_id IN (colleagues) ORDER BY day
    # DESC LIMIT 1``, PostgreSQL walks the whole table backwards by day hoping to meet a
    # colleague's entry early: 0.8 s at 1 000 000 entries when they have none (the
    # administrator, alone with that role, opening the week grid).
    latest = (
        select(WorkEntry.id)
        .join(Service, Service.id == WorkEntry.service_id)
        .where(WorkEntry.staff_id == User.id, Service.active.is_(True))
        .order_by(WorkEntry.day.desc(), WorkEntry.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )
    ids = [
        entry_id
        for entry_id in session.scalars(
            select(latest).select_from(User).where(User.roles == roles, User.id != staff_id)
        )
        if entry_id is not None
    ]
    if not ids:
        return None
    rows = session.execute(
        select(WorkEntry.day, WorkEntry.id, WorkEntry.service_id).where(WorkEntry.id.in_(ids))
    ).all()
    return max(rows)[2]


def _latest_service(session: Session, condition: Any) -> int | None:
    return session.scalar(
        select(WorkEntry.service_id)
        .join(Service, Service.id == WorkEntry.service_id)
        .where(condition, Service.active.is_(True))
        .order_by(WorkEntry.day.desc(), WorkEntry.id.desc())
        .limit(1)
    )


def previous_week_keys(session: Session, staff_id: int, day: date) -> list[RowKey]:
    """The rows of the week before the week of ``day`` ("copy last week")."""
    monday, _ = week_bounds(day)
    return [row.key for row in load_week(session, staff_id, monday - timedelta(days=7)).rows]


def save_week(
    session: Session,
    actor: User,
    day: date,
    rows: Sequence[tuple[RowKey, Sequence[int | None]]],
    *,
    staff_id: int | None = None,
) -> Saved:
    """Store the grid of the week of ``day``: ``rows`` gives, per row, seven cells of minutes
    (None or 0: empty). All or nothing; raises :class:`GridRefused` naming every bad cell."""
    staff = _staff_for(session, actor, staff_id)
    week = load_week(session, staff.id, day)
    stored = {row.key: row for row in week.rows}
    errors: list[CellError] = []
    plan = _Plan(added=dict.fromkeys(week.days, 0))
    seen: set[RowKey] = set()
    for row_index, (key, cells) in enumerate(rows):
        if key in seen:
            errors.append(CellError(row_index, None, "Cette ligne apparaît deux fois."))
            continue
        seen.add(key)
        if len(cells) != 7:
            errors.append(CellError(row_index, None, "Une ligne a sept jours."))
            continue
        old = stored.get(key)
        for day_index, wanted in enumerate(cells):
            wanted = wanted or 0
            cell = old.cells[day_index] if old else Cell()
            if wanted == cell.minutes:
                continue
            try:
                _plan_cell(session, actor, plan, key, cell, week.days[day_index], wanted)
            except TimesheetError as error:
                errors.append(CellError(row_index, day_index, str(error)))
    if errors:
        raise GridRefused(errors)
    replaced = [entry_id for entry_id, _ in plan.updates] + plan.deletes
    try:
        warnings = check_day_totals(session, staff, plan.added, excluding=replaced)
    except TimesheetError as error:
        raise GridRefused([CellError(0, None, str(error))]) from None
    saved = Saved(warnings=warnings)
    _apply(session, actor, staff, plan, saved)
    return saved


@dataclass
class _Plan:
    """What a grid changes: entries to create, update (id, data) and delete, and the minutes
    it adds per day."""

    added: dict[date, int]
    creates: list[EntryData] = field(default_factory=list)
    updates: list[tuple[int, EntryData]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


def _plan_cell(
    session: Session,
    actor: User,
    plan: _Plan,
    key: RowKey,
    cell: Cell,
    the_day: date,
    wanted: int,
) -> None:
    """Plan one changed cell; raises :class:`TimesheetError` when it may not change."""
    if cell.locked:
        if len(cell.entry_ids) > 1:
            raise InvalidEntry("Plusieurs saisies ce jour-là : modifiez-les depuis la liste.")
        entry = session.get(WorkEntry, cell.entry_ids[0]) if cell.entry_ids else None
        if entry is not None:
            _check_can_change(session, actor, entry)
        raise InvalidEntry("Ce jour est en lecture seule.")
    data = EntryData(
        day=the_day,
        service_id=key.service_id,
        minutes=wanted,
        member_id=key.member_id,
        activity_id=key.activity_id,
    )
    if cell.entry_ids:
        entry = session.get(WorkEntry, cell.entry_ids[0])
        assert entry is not None
        _check_can_change(session, actor, entry)
        if wanted:
            check_data(session, actor, data)
            plan.updates.append((entry.id, data))
        else:
            plan.deletes.append(entry.id)
    else:
        check_data(session, actor, data)
        plan.creates.append(data)
    plan.added[the_day] += wanted


def _apply(session: Session, actor: User, staff: User, plan: _Plan, saved: Saved) -> None:
    """Write the planned deletions, updates and creations (flushes)."""
    for entry_id in plan.deletes:
        session.delete(session.get(WorkEntry, entry_id))
    for entry_id, data in plan.updates:
        entry = session.get(WorkEntry, entry_id)
        assert entry is not None
        entry.minutes = data.minutes
        entry.updated_by_id = actor.id
        saved.entries.append(entry)
    for data in plan.creates:
        entry = WorkEntry(
            staff_id=staff.id,
            created_by_id=actor.id,
            updated_by_id=actor.id,
            status=EntryStatus.DRAFT,
            day=data.day,
            minutes=data.minutes,
            member_id=data.member_id,
            service_id=data.service_id,
            activity_id=data.activity_id,
            note="",
        )
        session.add(entry)
        saved.entries.append(entry)
    session.flush()
