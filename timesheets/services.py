"""Use cases of the timesheets: log, edit, split, delete, submit, approve and send back work.

Design: every function takes the session and the acting user, checks everything, changes the
ORM objects and only ``flush()``es; the caller (a view, a CLI command) commits, so a refused
change leaves nothing behind. Every row change is audited by the session hook of
``accounting.audit`` (work entries are ``__audited__``); approvals in bulk also write one
business event.

Rules (each one raises a :class:`~timesheets.errors.TimesheetError` with a French message):
- minutes are whole, ``> 0`` for time entries; a units-only entry (unit type + quantity) may
  have 0 minutes; one person logs at most 24 h on one day (refused), and is warned above 12 h;
- the member must be a member on that day (``joined_on <= day <= left_on``); ``None`` is common
  work, which a member accountant may neither log nor see;
- a member accountant logs and sees only work for their own member;
- activity and unit type belong to the entry's service and are active;
- an entry dated in a closed period is read-only for everyone (``accounting.periods``);
- only drafts change; submitted and approved entries change after being sent back;
- staff log for themselves; the admin may log and fix for anyone; admin and treasurer approve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accounting import authz
from accounting.allocation.engine import largest_remainder
from accounting.audit import record_audit
from accounting.org import Member, Role, Service, User
from accounting.periods import PeriodClosed, ensure_writable
from accounting.wording import plural
from timesheets.errors import (
    DayOverLimit,
    EntryInClosedPeriod,
    EntryLocked,
    EntryNotFound,
    InvalidEntry,
    MemberInactive,
    NotAllowed,
)
from timesheets.models import Activity, EntryStatus, UnitType, WorkEntry

#: Roles that log work (the treasurer reads and approves, but logs nothing).
LOGGING_ROLES = frozenset({Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.MEMBER_ACCOUNTANT})
#: Roles that approve or send back the staff's entries.
APPROVER_ROLES = frozenset({Role.ADMIN, Role.TREASURER})
#: The actions of the timesheets, checked by :func:`accounting.authz.authorize`.
LOG_WORK = authz.Action("timesheets.log", LOGGING_ROLES)
APPROVE_WORK = authz.Action("timesheets.approve", APPROVER_ROLES)
VIEW_WORK = authz.Action("timesheets.view", frozenset(Role))
#: Logging and fixing work for another person (the coordination).
WORK_FOR_ANYONE = authz.Action("timesheets.for_anyone", frozenset({Role.ADMIN}))
#: Above this, one person's day is refused.
DAY_LIMIT_MINUTES = 24 * 60
#: Above this, one person's day is accepted with a warning.
DAY_WARNING_MINUTES = 12 * 60
#: Largest quantity of work units in one entry (3 decimal places are stored).
MAX_QUANTITY = Decimal("1000000")


@dataclass(frozen=True, slots=True)
class EntryData:
    """What a user types for one entry (ids, not objects: forms, grids and imports build it)."""

    day: date
    service_id: int
    minutes: int = 0
    #: None: common work for the whole cluster.
    member_id: int | None = None
    activity_id: int | None = None
    unit_type_id: int | None = None
    quantity: Decimal | None = None
    note: str = ""


@dataclass(slots=True)
class Saved:
    """The entries written by a use case, and the warnings to show (e.g. more than 12 h)."""

    entries: list[WorkEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- scope and rights


def member_scope(user: User, action: authz.Action | None = None) -> int | None:
    """The only member whose work ``user`` may see (``action`` None: :data:`VIEW_WORK`) or
    log (:data:`LOG_WORK`), or None for every member.

    The rule of :func:`accounting.authz.is_scoped`: a member accountant who is also developer
    sees and logs for their member only; one who is also treasurer sees every member's work
    (the treasurer reads it) but logs for their member only (the treasurer logs nothing). A
    member accountant attached to no member is scoped to nothing (id 0 matches no member).
    """
    if not authz.is_scoped(user, action or VIEW_WORK):
        return None
    return user.member_id or 0


def visible_entries(user: User) -> Select[tuple[WorkEntry]]:
    """``select(WorkEntry)`` restricted to what ``user`` may see."""
    query = select(WorkEntry)
    scope = member_scope(user)
    if scope is not None:
        query = query.where(WorkEntry.member_id == scope)
    return query


def get_entry(session: Session, user: User, entry_id: int) -> WorkEntry:
    """The entry if ``user`` may see it; :class:`EntryNotFound` otherwise (no leak of ids)."""
    entry = session.get(WorkEntry, entry_id)
    if entry is None:
        raise EntryNotFound()
    scope = member_scope(user)
    if scope is not None and entry.member_id != scope:
        raise EntryNotFound()
    return entry


def _require_logger(user: User) -> None:
    if not authz.allowed(user, LOG_WORK):
        raise NotAllowed("Votre rôle ne permet pas de saisir des temps.")


def _require_approver(user: User) -> None:
    if not authz.allowed(user, APPROVE_WORK):
        raise NotAllowed("Seuls la coordination et le trésorier valident les temps.")


def _staff_for(session: Session, actor: User, staff_id: int | None) -> User:
    """The person whose work is logged: the actor, or anyone when the actor is admin."""
    _require_logger(actor)
    if staff_id is None or staff_id == actor.id:
        return actor
    if not authz.allowed(actor, WORK_FOR_ANYONE):
        raise NotAllowed("Vous ne pouvez saisir que vos propres temps.")
    staff = session.get(User, staff_id)
    if staff is None or not staff.active:
        raise InvalidEntry("Intervenant inconnu ou désactivé.")
    return staff


def _check_can_change(session: Session, actor: User, entry: WorkEntry) -> None:
    """Refuse changing ``entry`` when its period is closed, it is not a draft, or it is not
    the actor's (the admin may fix anyone's). Out of the actor's member scope: not found."""
    scope = member_scope(actor, LOG_WORK)
    if scope is not None and entry.member_id != scope:
        raise EntryNotFound()
    _check_open(session, entry.day)
    if entry.status != EntryStatus.DRAFT:
        label = EntryStatus(entry.status).label.lower()
        raise EntryLocked(
            f"Cette saisie est {label}e : elle ne peut être modifiée qu'après avoir été "
            "renvoyée par la coordination ou le trésorier."
        )
    if entry.staff_id != actor.id and not authz.allowed(actor, WORK_FOR_ANYONE):
        raise NotAllowed("Vous ne pouvez modifier que vos propres saisies.")


def _check_open(session: Session, day: date) -> None:
    try:
        ensure_writable(session, day)  # closed, or invoiced (PeriodLocked)
    except PeriodClosed as error:
        raise EntryInClosedPeriod(str(error)) from None


# ---------------------------------------------------------------- checking one entry


def _fmt_day(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _fmt_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def check_data(session: Session, actor: User, data: EntryData) -> None:
    """Refuse data that breaks a rule of one entry (everything but the day total)."""
    if not isinstance(data.minutes, int) or isinstance(data.minutes, bool):
        raise InvalidEntry("La durée doit être un nombre entier de minutes.")
    if data.minutes < 0:
        raise InvalidEntry("La durée ne peut pas être négative.")
    if data.minutes > DAY_LIMIT_MINUTES:
        raise DayOverLimit("Une saisie ne peut pas dépasser 24 h.")
    if (data.unit_type_id is None) != (data.quantity is None):
        raise InvalidEntry("Indiquez ensemble l'unité d'œuvre et sa quantité.")
    if data.quantity is not None:
        if data.quantity <= 0:
            raise InvalidEntry("La quantité doit être supérieure à zéro.")
        if data.quantity > MAX_QUANTITY or data.quantity != data.quantity.quantize(
            Decimal("0.001")
        ):
            raise InvalidEntry("Quantité invalide (au plus 3 décimales, au plus 1 000 000).")
    if data.minutes == 0 and data.unit_type_id is None:
        raise InvalidEntry("La durée doit être supérieure à zéro.")
    service = session.get(Service, data.service_id)
    if service is None:
        raise InvalidEntry("Service inconnu.")
    if not service.active:
        raise InvalidEntry(f"Le service « {service.name} » est désactivé.")
    if data.activity_id is not None:
        activity = session.get(Activity, data.activity_id)
        if activity is None or activity.service_id != service.id:
            raise InvalidEntry(f"Activité inconnue pour le service « {service.name} ».")
        if not activity.active:
            raise InvalidEntry(f"L'activité « {activity.name} » est désactivée.")
    if data.unit_type_id is not None:
        unit_type = session.get(UnitType, data.unit_type_id)
        if unit_type is None or unit_type.service_id != service.id:
            raise InvalidEntry(f"Unité d'œuvre inconnue pour le service « {service.name} ».")
        if not unit_type.active:
            raise InvalidEntry(f"L'unité d'œuvre « {unit_type.name} » est désactivée.")
    check_member(session, actor, data.member_id, data.day)
    _check_open(session, data.day)


def check_member(session: Session, actor: User, member_id: int | None, day: date) -> None:
    """Refuse a member outside the actor's scope, unknown, or not a member on ``day``."""
    scope = member_scope(actor, LOG_WORK)
    if member_id is None:
        if scope is not None:
            raise NotAllowed(
                "Un comptable d'adhérent ne saisit que le travail fait pour son adhérent "
                "(pas de travail commun)."
            )
        return
    if scope is not None and member_id != scope:
        raise NotAllowed("Vous ne pouvez saisir que le travail fait pour votre adhérent.")
    member = session.get(Member, member_id)
    if member is None:
        raise InvalidEntry("Adhérent inconnu.")
    if not member.is_active_on(day):
        if day < member.joined_on:
            raise MemberInactive(
                f"{member.name} ({member.code}) n'était pas encore adhérent le {_fmt_day(day)} "
                f"(adhésion le {_fmt_day(member.joined_on)})."
            )
        assert member.left_on is not None
        raise MemberInactive(
            f"{member.name} ({member.code}) n'était plus adhérent le {_fmt_day(day)} "
            f"(départ le {_fmt_day(member.left_on)})."
        )


def day_minutes(
    session: Session, staff_id: int, days: Iterable[date], *, excluding: Iterable[int] = ()
) -> dict[date, int]:
    """Minutes already logged by ``staff_id`` on each of ``days`` (entries in ``excluding``
    left out: they are being replaced)."""
    days = sorted(set(days))
    if not days:
        return {}
    query = (
        select(WorkEntry.day, func.coalesce(func.sum(WorkEntry.minutes), 0))
        .where(WorkEntry.staff_id == staff_id, WorkEntry.day.between(days[0], days[-1]))
        .group_by(WorkEntry.day)
    )
    excluding = list(excluding)
    if excluding:
        query = query.where(WorkEntry.id.not_in(excluding))
    totals = {day: int(total) for day, total in session.execute(query)}
    return {day: totals.get(day, 0) for day in days}


def staff_day_minutes(
    session: Session, pairs: Iterable[tuple[int, date]]
) -> dict[tuple[int, date], int]:
    """Minutes already logged on each (staff, day) of ``pairs``, in one query whatever their
    number (an import checks the 24 h rule for every staff and day of its file at once). The
    covering index ``(staff_id, day, minutes)`` serves it without reading the table."""
    wanted = set(pairs)
    if not wanted:
        return {}
    staff_ids = sorted({staff_id for staff_id, _day in wanted})
    days = [day for _staff, day in wanted]
    query = (
        select(WorkEntry.staff_id, WorkEntry.day, func.sum(WorkEntry.minutes))
        .where(WorkEntry.staff_id.in_(staff_ids), WorkEntry.day.between(min(days), max(days)))
        .group_by(WorkEntry.staff_id, WorkEntry.day)
    )
    return {
        (staff_id, day): int(total)
        for staff_id, day, total in session.execute(query)
        if (staff_id, day) in wanted
    }


def check_day_totals(
    session: Session,
    staff: User,
    added: dict[date, int],
    *,
    excluding: Iterable[int] = (),
) -> list[str]:
    """Refuse a day above 24 h for ``staff`` once ``added`` minutes are in; warn above 12 h."""
    warnings: list[str] = []
    existing = day_minutes(session, staff.id, added, excluding=excluding)
    for day in sorted(added):
        total = existing[day] + added[day]
        if total > DAY_LIMIT_MINUTES:
            raise DayOverLimit(
                f"Plus de 24 h saisies le {_fmt_day(day)} pour {staff.name} "
                f"({_fmt_minutes(total)} au total) : refusé."
            )
        if total > DAY_WARNING_MINUTES and added[day]:
            warnings.append(
                f"Attention : {_fmt_minutes(total)} saisies le {_fmt_day(day)} pour "
                f"{staff.name} (plus de 12 h)."
            )
    return warnings


def _apply(entry: WorkEntry, data: EntryData, actor: User) -> None:
    entry.day = data.day
    entry.minutes = data.minutes
    entry.member_id = data.member_id
    entry.service_id = data.service_id
    entry.activity_id = data.activity_id
    entry.unit_type_id = data.unit_type_id
    entry.quantity = data.quantity
    entry.note = data.note.strip()
    entry.updated_by_id = actor.id


# ---------------------------------------------------------------- create, edit, delete


def create_entry(
    session: Session, actor: User, data: EntryData, *, staff_id: int | None = None
) -> Saved:
    """Log one piece of work (a draft)."""
    staff = _staff_for(session, actor, staff_id)
    check_data(session, actor, data)
    warnings = check_day_totals(session, staff, {data.day: data.minutes})
    entry = WorkEntry(staff_id=staff.id, created_by_id=actor.id, status=EntryStatus.DRAFT)
    _apply(entry, data, actor)
    session.add(entry)
    session.flush()
    return Saved([entry], warnings)


def update_entry(session: Session, actor: User, entry_id: int, data: EntryData) -> Saved:
    """Change a draft entry (its old and new dates must both be in open periods)."""
    entry = get_entry(session, actor, entry_id)
    _check_can_change(session, actor, entry)
    check_data(session, actor, data)
    staff = session.get(User, entry.staff_id)
    assert staff is not None
    warnings = check_day_totals(session, staff, {data.day: data.minutes}, excluding=[entry.id])
    _apply(entry, data, actor)
    session.flush()
    return Saved([entry], warnings)


def delete_entry(session: Session, actor: User, entry_id: int) -> None:
    """Delete a draft entry."""
    entry = get_entry(session, actor, entry_id)
    _check_can_change(session, actor, entry)
    session.delete(entry)
    session.flush()


# ---------------------------------------------------------------- split across members


def split_integer(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split a whole number in proportion to ``weights``, the parts adding up to ``total``
    exactly (largest remainders, ties to the first)."""
    # The allocation engine's split works in cents: scale whole units to "cents" and back.
    parts = largest_remainder(Decimal(total).scaleb(-2), dict(enumerate(weights)))
    return [int(parts[index].scaleb(2)) for index in range(len(weights))]


def split_entry(
    session: Session,
    actor: User,
    data: EntryData,
    shares: Sequence[tuple[int, Decimal | int]],
    *,
    by: str = "minutes",
    staff_id: int | None = None,
) -> Saved:
    """Log one piece of work done for several members at once as one entry per member.

    ``by="minutes"``: each share is that member's minutes (``data.minutes`` is ignored).
    ``by="percent"``: shares are percentages adding up to 100 of ``data.minutes``; minutes are
    whole and add up exactly (largest remainders). A quantity of work units is split in the
    same proportions, to the thousandth.
    """
    if by not in ("minutes", "percent"):
        raise InvalidEntry("Répartition par minutes ou par pourcentage uniquement.")
    if not shares:
        raise InvalidEntry("Choisissez au moins un adhérent.")
    members = [member_id for member_id, _ in shares]
    if len(set(members)) != len(members):
        raise InvalidEntry("Un même adhérent apparaît deux fois dans la répartition.")
    values = [Decimal(value) for _, value in shares]
    if any(value <= 0 for value in values):
        raise InvalidEntry("Chaque part doit être supérieure à zéro.")
    if by == "percent":
        if sum(values) != 100:
            raise InvalidEntry(
                f"Les pourcentages doivent faire 100 % (total saisi : {sum(values)} %)."
            )
        if data.minutes <= 0:
            raise InvalidEntry("La durée à répartir doit être supérieure à zéro.")
        minutes = split_integer(data.minutes, values)
    else:
        if any(value != value.to_integral_value() for value in values):
            raise InvalidEntry("Les parts en minutes doivent être des nombres entiers.")
        minutes = [int(value) for value in values]
    if any(part == 0 for part in minutes):
        raise InvalidEntry("La durée est trop courte pour être répartie entre tant d'adhérents.")
    quantities: list[Decimal | None] = [None] * len(shares)
    if data.quantity is not None:
        thousandths = split_integer(int(data.quantity.scaleb(3)), minutes)
        quantities = [Decimal(part).scaleb(-3) if part else None for part in thousandths]
        if any(quantity is None for quantity in quantities):
            raise InvalidEntry("La quantité est trop petite pour être répartie.")
    staff = _staff_for(session, actor, staff_id)
    parts = [
        replace(
            data,
            member_id=member_id,
            minutes=minutes[index],
            quantity=quantities[index],
            unit_type_id=data.unit_type_id if quantities[index] is not None else None,
        )
        for index, (member_id, _) in enumerate(shares)
    ]
    for part in parts:
        check_data(session, actor, part)
    warnings = check_day_totals(session, staff, {data.day: sum(minutes)})
    saved = Saved(warnings=warnings)
    for part in parts:
        entry = WorkEntry(staff_id=staff.id, created_by_id=actor.id, status=EntryStatus.DRAFT)
        _apply(entry, part, actor)
        session.add(entry)
        saved.entries.append(entry)
    session.flush()
    return saved


# ---------------------------------------------------------------- approval


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week of ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def submit_week(session: Session, actor: User, day: date) -> int:
    """Submit the actor's draft entries of the week of ``day``; returns how many."""
    _require_logger(actor)
    monday, sunday = week_bounds(day)
    entries = session.scalars(
        select(WorkEntry).where(
            WorkEntry.staff_id == actor.id,
            WorkEntry.day.between(monday, sunday),
            WorkEntry.status == EntryStatus.DRAFT,
        )
    ).all()
    if not entries:
        raise InvalidEntry(
            f"Aucune saisie en brouillon à soumettre pour la semaine du {_fmt_day(monday)}."
        )
    for entry in entries:
        _check_open(session, entry.day)
        entry.status = EntryStatus.SUBMITTED
        entry.review_comment = ""
        entry.updated_by_id = actor.id
    session.flush()
    return len(entries)


def _entries_by_ids(session: Session, ids: Iterable[int]) -> list[WorkEntry]:
    ids = sorted(set(ids))
    if not ids:
        raise InvalidEntry("Aucune saisie sélectionnée.")
    entries = list(session.scalars(select(WorkEntry).where(WorkEntry.id.in_(ids))))
    if len(entries) != len(ids):
        raise EntryNotFound()
    return entries


def approve_entries(session: Session, actor: User, ids: Iterable[int]) -> int:
    """Approve submitted entries; returns how many changed (already approved ones are left)."""
    _require_approver(actor)
    entries = _entries_by_ids(session, ids)
    drafts = [entry for entry in entries if entry.status == EntryStatus.DRAFT]
    if drafts:
        raise InvalidEntry(
            f"{plural(len(drafts), 'saisie')} encore en brouillon : "
            + ("elle doit d'abord être soumise par son auteur." if len(drafts) < 2
               else "elles doivent d'abord être soumises par leur auteur.")
        )
    return _approve(session, actor, entries)


def _approve(session: Session, actor: User, entries: Sequence[WorkEntry]) -> int:
    changed = 0
    for entry in entries:
        if entry.status != EntryStatus.SUBMITTED:
            continue
        _check_open(session, entry.day)
        entry.status = EntryStatus.APPROVED
        entry.review_comment = ""
        entry.updated_by_id = actor.id
        changed += 1
    session.flush()
    return changed


def approve_month(
    session: Session, actor: User, year: int, month: int, *, staff_id: int | None = None
) -> int:
    """Approve every submitted entry of a month (of one staff, or of all); returns how many."""
    _require_approver(actor)
    start = date(year, month, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    query = select(WorkEntry).where(
        WorkEntry.day.between(start, end), WorkEntry.status == EntryStatus.SUBMITTED
    )
    if staff_id is not None:
        query = query.where(WorkEntry.staff_id == staff_id)
    count = _approve(session, actor, list(session.scalars(query)))
    record_audit(
        session,
        "approve_month",
        "work_entries",
        f"{year}-{month:02d}",
        after={"approved": count, "staff_id": staff_id},
    )
    return count


def send_back(session: Session, actor: User, ids: Iterable[int], comment: str) -> int:
    """Send submitted or approved entries back to their author as drafts, with a comment."""
    _require_approver(actor)
    comment = comment.strip()
    if not comment:
        raise InvalidEntry("Indiquez un commentaire pour expliquer le renvoi.")
    entries = _entries_by_ids(session, ids)
    changed = 0
    for entry in entries:
        if entry.status == EntryStatus.DRAFT:
            continue
        _check_open(session, entry.day)
        entry.status = EntryStatus.DRAFT
        entry.review_comment = comment
        entry.updated_by_id = actor.id
        changed += 1
    session.flush()
    return changed
