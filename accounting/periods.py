"""Accounting periods: months, quarters and years, open or closed.

Invariant: a day inside any closed period is read-only for work entries, costs, subsidies and
invoices. Every writer calls :func:`ensure_open` before it changes something dated.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounting.audit import record_audit
from accounting.db import Base, transaction_lock, utcnow
from accounting.seal import Sealable, register_sealable, seal_record

MONTHS_FR = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]


class PeriodError(ValueError):
    """Base of period errors (French message)."""


class PeriodClosed(PeriodError):
    def __init__(self, day: date, label: str) -> None:
        super().__init__(
            f"La période {label} est clôturée : le {day:%d/%m/%Y} est en lecture seule."
        )
        self.day = day
        self.label = label


class PeriodLocked(PeriodClosed):
    """A day inside a period that is open but locked (its invoices are issued, DESIGN §4)."""

    def __init__(self, day: date, label: str, message: str) -> None:
        PeriodError.__init__(self, message)
        self.day = day
        self.label = label


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def period_bounds(kind: PeriodKind, year: int, number: int = 1) -> tuple[date, date]:
    """First and last day of month ``number``, quarter ``number`` or the year."""
    if kind is PeriodKind.MONTH:
        if not 1 <= number <= 12:
            raise PeriodError(f"mois invalide : {number}")
        return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
    if kind is PeriodKind.QUARTER:
        if not 1 <= number <= 4:
            raise PeriodError(f"trimestre invalide : {number}")
        first = 3 * (number - 1) + 1
        return date(year, first, 1), date(
            year, first + 2, calendar.monthrange(year, first + 2)[1]
        )
    return date(year, 1, 1), date(year, 12, 31)


_CODE = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{1,2})|[TtQq](?P<quarter>[1-4])))?$")


def parse_period_code(code: str) -> tuple[PeriodKind, date, date]:
    """``2026-03`` (month), ``2026-T1`` (quarter, ``Q1`` accepted) or ``2026`` (year)."""
    match = _CODE.match(code.strip())
    if not match:
        raise PeriodError(
            f"période « {code} » illisible : attendu 2026-03 (mois), 2026-T1 (trimestre) "
            "ou 2026 (année)"
        )
    year = int(match["year"])
    if not 1900 <= year <= 2100:  # date() would raise a bare ValueError (a 500 at the edge)
        raise PeriodError(f"période « {code} » : l'année doit être entre 1900 et 2100")
    if match["month"]:
        return (PeriodKind.MONTH, *period_bounds(PeriodKind.MONTH, year, int(match["month"])))
    if match["quarter"]:
        q = int(match["quarter"])
        return (PeriodKind.QUARTER, *period_bounds(PeriodKind.QUARTER, year, q))
    return (PeriodKind.YEAR, *period_bounds(PeriodKind.YEAR, year))


class Period(Base):
    __tablename__ = "periods"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    start: Mapped[date]
    end: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=PeriodStatus.OPEN)
    closed_at: Mapped[Optional[datetime]]
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("kind", "start"),
        CheckConstraint("start <= \"end\"", name="bounds"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("kind IN ('month', 'quarter', 'year')", name="kind"),
    )

    @property
    def code(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-T{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        """French label: « mars 2026 », « T1 2026 », « 2026 »."""
        if self.kind == PeriodKind.MONTH:
            return f"{MONTHS_FR[self.start.month - 1]} {self.start.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"T{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start.year}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_closed(self) -> bool:
        return self.status == PeriodStatus.CLOSED

    def __repr__(self) -> str:
        return f"<Period {self.code} {self.status}>"


def get_or_create_period(session: Session, code: str) -> Period:
    """The period of a code, created open if it does not exist yet (flushes, never commits)."""
    kind, start, end = parse_period_code(code)
    period = session.scalars(
        select(Period).where(Period.kind == kind.value, Period.start == start)
    ).one_or_none()
    if period is None:
        period = Period(kind=kind.value, start=start, end=end, status=PeriodStatus.OPEN)
        session.add(period)
        session.flush()
    return period


def hold_periods(session: Session, *, exclusive: bool = False) -> None:
    """Keep the closed periods as they are until this transaction ends.

    Every writer of dated records holds this lock shared (:func:`closed_period_containing`
    takes it; importers that read the closed periods themselves call this first); closing and
    reopening hold it exclusive. So a period never closes under a write still in flight, and a
    write that starts during a close waits for it, then sees the period closed. (SQLite has one
    writer at a time: a transaction that read before a close fails to write instead.)
    """
    transaction_lock(session, "mutualise:periods", shared=not exclusive)


def closed_period_containing(session: Session, day: date) -> Period | None:
    hold_periods(session)
    return session.scalars(
        select(Period)
        .where(
            Period.status == PeriodStatus.CLOSED.value,
            Period.start <= day,
            Period.end >= day,
        )
        .limit(1)
    ).first()


def ensure_open(session: Session, day: date) -> None:
    """Raise :class:`PeriodClosed` when ``day`` lies inside a closed period."""
    closed = closed_period_containing(session, day)
    if closed is not None:
        raise PeriodClosed(day, closed.label)


# ---------------------------------------------------------------- locks of open periods
# A period whose invoices are issued is locked for the work, costs and subsidies dated inside
# it, although it stays open (DESIGN §4): what is booked there would never be invoiced. The
# invoicing area registers the lock (``accounting.invoicing.locks``); this module imports none.

#: Each returns the locked ranges: (first day, last day, French label of the period).
DAY_LOCKS: list[Callable[[Session], list[tuple[date, date, str]]]] = []


def day_lock(
    check: Callable[[Session], list[tuple[date, date, str]]],
) -> Callable[[Session], list[tuple[date, date, str]]]:
    """Register a lock of open periods (usable as a decorator)."""
    if check not in DAY_LOCKS:
        DAY_LOCKS.append(check)
    return check


def locked_message(day: date, label: str) -> str:
    """The French refusal, naming the period and the two ways out."""
    return (
        f"La période {label} est facturée : rien de daté du {day:%d/%m/%Y} (temps, charge, "
        f"subvention) n'y est plus accepté, car ce ne serait jamais facturé. Enregistrez-le dans "
        f"la période ouverte, ou rouvrez {label} avec un motif pour la corriger, puis "
        "facturez les différences."
    )


def locked_ranges(session: Session) -> list[tuple[date, date, str]]:
    """Every locked range (importers check their rows against it in one go)."""
    hold_periods(session)
    return [r for check in DAY_LOCKS for r in check(session)]


def ensure_open_days(session: Session, days: Iterable[date]) -> None:
    """:func:`ensure_open` for many days (a bulk import's) in one query: the earliest day
    inside a closed period raises :class:`PeriodClosed`."""
    hold_periods(session)
    closed = session.scalars(
        select(Period).where(Period.status == PeriodStatus.CLOSED.value)
    ).all()  # fmt: skip
    for day in sorted(set(days)):
        for period in closed:
            if period.start <= day <= period.end:
                raise PeriodClosed(day, period.label)


def ensure_writable_days(session: Session, days: Iterable[date]) -> None:
    """:func:`ensure_writable` for many days, in one query per kind of lock."""
    days = sorted(set(days))
    ensure_open_days(session, days)
    ranges = locked_ranges(session)
    for day in days:
        for start, end, label in ranges:
            if start <= day <= end:
                raise PeriodLocked(day, label, locked_message(day, label))


def ensure_writable(session: Session, day: date) -> None:
    """:func:`ensure_open`, then refuse a day inside a locked (invoiced) period with
    :class:`PeriodLocked`. Every writer of work entries, costs and subsidies calls it."""
    ensure_open(session, day)
    for start, end, label in locked_ranges(session):
        if start <= day <= end:
            raise PeriodLocked(day, label, locked_message(day, label))




# ---------------------------------------------------------------- closing and reopening
# (added by the allocation area: closing is an admin act, audited; reopening is refused once
# something irreversible, such as an issued invoice, exists in the period.)

#: Checks run before a period is reopened: each returns a French reason to refuse, or None.
#: Other areas add theirs with :func:`reopen_check` (the invoices area refuses when invoices of
#: the period are issued), so this module needs to import none of them.
REOPEN_CHECKS: list[Callable[[Session, Period], str | None]] = []


def reopen_check(
    check: Callable[[Session, Period], str | None],
) -> Callable[[Session, Period], str | None]:
    """Register a reason that may refuse the reopening of a period (usable as a decorator)."""
    if check not in REOPEN_CHECKS:
        REOPEN_CHECKS.append(check)
    return check


def close_period(session: Session, period: Period, user_id: int | None = None) -> Period:
    """Close a period: its work entries, costs, subsidies and invoices become read-only.

    The status change is audited by the session hook; flushes, never commits.
    """
    hold_periods(session, exclusive=True)  # waits for dated writes in flight
    session.refresh(period)
    if period.is_closed:
        raise PeriodError(f"La période {period.label} est déjà clôturée.")
    period.status = PeriodStatus.CLOSED.value
    period.closed_at = utcnow()
    period.closed_by_id = user_id
    session.flush()
    seal_record(session, Period.__tablename__, period.id, "close")  # hash chain (verify)
    record_audit(session, "close", Period.__tablename__, period.id, after={"code": period.code})
    return period


#: Acts run when a period is reopened (after the checks): each may unlock something of the
#: period — the invoicing area opens a correction of an invoiced period — and returns True when
#: it did. Reopening an open period is refused unless one of them did something.
REOPEN_HOOKS: list[Callable[[Session, Period, str, int | None], bool]] = []


def on_reopen(
    hook: Callable[[Session, Period, str, int | None], bool],
) -> Callable[[Session, Period, str, int | None], bool]:
    """Register an act of reopening (usable as a decorator)."""
    if hook not in REOPEN_HOOKS:
        REOPEN_HOOKS.append(hook)
    return hook


def reopen_period(
    session: Session, period: Period, reason: str, user_id: int | None = None
) -> Period:
    """Reopen a period with a reason (audited): a closed period becomes open, and an invoiced
    one is opened for correction (its work, costs and subsidies accepted again until the
    differences are invoiced). Refused when a registered check objects, without a reason, or
    when there is nothing to reopen."""
    hold_periods(session, exclusive=True)
    session.refresh(period)
    reason = (reason or "").strip()
    if not reason:
        raise PeriodError("Dites pourquoi la période est rouverte : c'est inscrit au journal.")
    refusals = [r for check in REOPEN_CHECKS if (r := check(session, period))]
    if refusals:
        raise PeriodError(
            f"La période {period.label} ne peut pas être rouverte : " + " ; ".join(refusals)
        )
    was_closed = period.is_closed
    if was_closed:
        period.status = PeriodStatus.OPEN.value
        period.closed_at = None
        period.closed_by_id = None
        session.flush()
        seal_record(session, Period.__tablename__, period.id, "reopen")  # hash chain (verify)
    unlocked = [hook(session, period, reason, user_id) for hook in REOPEN_HOOKS]
    if not was_closed and not any(unlocked):
        raise PeriodError(f"La période {period.label} est déjà ouverte.")
    record_audit(session, "reopen", Period.__tablename__, period.id, after={"reason": reason})
    return period


#: Closing and reopening are sealed in the hash chain (accounting.seal): `mutualise verify`
#: finds a closed period changed or inserted behind the application's back.
register_sealable(
    Sealable(
        Period.__tablename__,
        must_be_sealed=lambda t: t.c.status == PeriodStatus.CLOSED.value,
        label=lambda row: Period(kind=row["kind"], start=row["start"], end=row["end"]).code,
    )
)
