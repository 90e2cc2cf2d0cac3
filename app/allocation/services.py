"""Use cases of the allocation area that tie timesheets and accounting together.

``allocate_period`` is the one entry point of the web pages, the CLI and the benchmarks: it
aggregates the work of the period in SQL (``GROUP BY`` over covering indexes, no entry
loaded), then lets :func:`accounting.allocation.runs.compute_period` do the rest. It lives in
``app`` because accounting may not import timesheets (DESIGN §6).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, Select, bindparam, column, func, select, text
from sqlalchemy.orm import Session, aliased

from accounting.allocation.approval import approve_or_replace
from accounting.allocation.errors import AllocationError
from accounting.allocation.keyperiods import allocate_by_key_periods, split_bounds
from accounting.allocation.keys import BasisName, parse_key
from accounting.allocation.models import AllocationKey, AllocationLine, AllocationRun, RunStatus
from accounting.allocation.runs import (
    PeriodAllocation,
    WorkTotals,
    compute_period,
)
from accounting.collector import collector_paused
from accounting.db import Quantity
from accounting.invoicing.differences import called_services
from accounting.periods import Period, PeriodKind
from timesheets.models import EntryStatus, UnitType, WorkEntry

_SQLITE_INDEXED = {
    # SQLAlchemy renders no FROM hint on SQLite, so these three are written out for it.
    "minutes": (
        "SELECT service_id, member_id, SUM(minutes) FROM work_entries "
        "INDEXED BY ix_work_entries_service_day WHERE day >= :start AND day <= :end "
        "GROUP BY service_id, member_id"
    ),
    "units": (
        "SELECT service_id, member_id, unit_type_id, SUM(quantity) FROM work_entries "
        "INDEXED BY ix_work_entries_day WHERE day >= :start AND day <= :end "
        "AND unit_type_id IS NOT NULL GROUP BY service_id, member_id, unit_type_id"
    ),
    "unapproved": (
        "SELECT COUNT(*) FROM work_entries INDEXED BY ix_work_entries_day "
        "WHERE day >= :start AND day <= :end AND status != :approved"
    ),
}


def _query(session: Session, name: str, portable: Select[Any], period: Period) -> Any:
    """Run ``portable``; on SQLite, the same query naming its covering index (with ``ANALYZE``
    statistics SQLite's planner may prefer a narrower index plus a lookup per row: measured 2x
    slower on 1 000 000 entries). Only while the timesheets models declare those indexes."""
    indexes = {i.name for i in WorkEntry.__table__.indexes}
    if session.get_bind().dialect.name != "sqlite" or not {
        "ix_work_entries_service_day", "ix_work_entries_day"
    } <= indexes:
        return session.execute(portable)
    sql = text(_SQLITE_INDEXED[name]).bindparams(
        bindparam("start", period.start, type_=Date), bindparam("end", period.end, type_=Date),
    )
    if name == "unapproved":
        sql = sql.bindparams(approved=EntryStatus.APPROVED.value)
    elif name == "units":
        sql = sql.columns(
            column("service_id", Integer), column("member_id", Integer),
            column("unit_type_id", Integer), column("quantity", Quantity()),
        )
    return session.execute(sql)


def work_totals(session: Session, period: Period, *, units: bool = True) -> WorkTotals:
    """Minutes and units per (service, member or None) over the period, in SQL.

    Three aggregate queries, each served by a covering index: minutes per service and member,
    units per unit type (skipped when ``units`` is False: no key in force counts units), and
    the entries not approved yet. Units are Σ quantity per unit type in SQL, then × the type's
    weight here (a handful of rows), so the database never multiplies two scaled decimals.
    """
    in_period = (WorkEntry.day >= period.start, WorkEntry.day <= period.end)
    minutes = {
        (service_id, member_id): int(total or 0)
        for service_id, member_id, total in _query(
            session, "minutes",
            select(WorkEntry.service_id, WorkEntry.member_id, func.sum(WorkEntry.minutes))
            .where(*in_period).group_by(WorkEntry.service_id, WorkEntry.member_id),
            period,
        ).all()  # one fetchall: iterating the result fetched row by row
    }
    unit_totals: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    if units:
        weights = dict(session.execute(select(UnitType.id, UnitType.weight)).all())
        for service_id, member_id, unit_type_id, quantity in _query(
            session, "units",
            select(WorkEntry.service_id, WorkEntry.member_id, WorkEntry.unit_type_id,
                   func.sum(WorkEntry.quantity))
            .where(*in_period, WorkEntry.unit_type_id.is_not(None))
            .group_by(WorkEntry.service_id, WorkEntry.member_id, WorkEntry.unit_type_id),
            period,
        ).all():
            if quantity is not None:
                unit_totals[(service_id, member_id)] += Decimal(quantity) * weights[unit_type_id]
    unapproved = _query(
        session, "unapproved",
        select(func.count()).select_from(WorkEntry)
        .where(*in_period, WorkEntry.status != EntryStatus.APPROVED.value),
        period,
    ).scalar()
    return WorkTotals(minutes, dict(unit_totals), int(unapproved or 0))


def _keys_count_units(session: Session, period: Period) -> bool:
    """Whether a key that may be in force in the period counts units (parts or common_by)."""
    for key_text in session.scalars(
        select(AllocationKey.text).where(AllocationKey.valid_from <= period.end)
    ):
        try:
            key = parse_key(key_text)
        except AllocationError:
            return True  # let the allocation report it, with every figure there
        if any(b.name is BasisName.UNITS for b in key.bases):
            return True
    return False


def allocate_period(
    session: Session, period: Period, service: str | None = None
) -> PeriodAllocation:
    """Compute the allocation of a period (preview: nothing is written). A period spanning
    two key versions is computed as its key periods, each with its own work, and summed
    (``accounting.allocation.keyperiods``). Python's cyclic garbage collector is paused
    throughout (``collector_paused``: tens of thousands of rows and inputs, no cycle). A
    service whose funds are called for the year (DESIGN §5b) is left out of a month or a
    quarter: the year's allocation shares it."""
    with collector_paused():
        result = _allocate_period(session, period, service)
    called = called_services(session, period)
    if called and any(item.service.id in called for item in result.services):
        names = [i.service.name for i in result.services if i.service.id in called]
        result.services = [i for i in result.services if i.service.id not in called]
        result.warnings.append(
            f"{', '.join(names)} : fonds appelés sur budget en {period.start.year}, réparti sur "
            "l'année (répartition de l'exercice puis régularisation), pas par période."
        )
    shared = shared_within(session, period)
    if shared and any(item.service.id in shared for item in result.services):
        names = [i.service.name for i in result.services if i.service.id in shared]
        result.services = [i for i in result.services if i.service.id not in shared]
        result.warnings.append(
            f"{', '.join(names)} : déjà réparti par mois ou par trimestre en "
            f"{period.start.year} (répartitions approuvées), laissé hors de la répartition de "
            "l'exercice."
        )
    return result


def shared_within(session: Session, period: Period) -> set[int]:
    """For a year: the services already shared by approved month or quarter runs inside it.
    Why: a cluster calls funds for some services (shared by the year's run, then trued up)
    and invoices the others month by month; the year's run must share only the former, or its
    approval would meet the months' (one approved allocation per service and day)."""
    if period.kind != PeriodKind.YEAR:
        return set()
    inner = aliased(Period)
    return set(session.scalars(
        select(AllocationLine.service_id)
        .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
        .join(inner, inner.id == AllocationRun.period_id)
        .where(AllocationRun.status == RunStatus.APPROVED.value,
               inner.kind != PeriodKind.YEAR,
               inner.start >= period.start, inner.end <= period.end)
        .distinct()
    ))  # fmt: skip


def _allocate_period(session: Session, period: Period, service: str | None) -> PeriodAllocation:
    units = _keys_count_units(session, period)
    starts = session.scalars(
        select(AllocationKey.valid_from).where(
            AllocationKey.valid_from > period.start, AllocationKey.valid_from <= period.end
        )
    ).all()
    bounds = split_bounds(starts, period.start, period.end)
    if len(bounds) == 1:
        return compute_period(session, period, work_totals(session, period, units=units), service)
    return allocate_by_key_periods(
        period, bounds,
        lambda span: compute_period(
            session, span, work_totals(session, span, units=units), service  # type: ignore[arg-type]
        ),
    )


def unvalidated_entries(session: Session, period: Period) -> int:
    """Work entries of the period still draft or submitted (they block an approval)."""
    return int(_query(
        session, "unapproved",
        select(func.count()).select_from(WorkEntry).where(
            WorkEntry.day >= period.start, WorkEntry.day <= period.end,
            WorkEntry.status != EntryStatus.APPROVED.value,
        ),
        period,
    ).scalar() or 0)


def store_period(
    session: Session, period: Period, service: str | None = None, *,
    user_id: int | None = None, note: str = "",
) -> AllocationRun:
    """Compute and store a run with its input digests (flushes; the caller commits)."""
    from app.allocation.digest import store_with_digests

    return store_with_digests(
        session, period, allocate_period(session, period, service), user_id=user_id, note=note
    )


def approve(
    session: Session, run: AllocationRun, *, user_id: int | None = None, reason: str = "",
    work_override: str = "",
) -> AllocationRun:
    """Approve a stored run after checking, by computing it again, that nothing changed; it
    replaces the period's approved run (``reason`` required then), and needs the period's
    work validated unless ``work_override`` says why not (DESIGN §4)."""
    period = run.period
    current = allocate_period(session, period, run.inputs.get("service"))
    return approve_or_replace(
        session, run, user_id=user_id, current=current,
        unvalidated=unvalidated_entries(session, period),
        reason=reason, work_override=work_override,
    )
