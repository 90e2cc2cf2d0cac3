"""Use cases of the allocation area that tie timesheets and accounting together.

``allocate_period`` is the one entry point of the web pages, the CLI and the benchmarks: it
aggregates the work of the period in SQL (one ``GROUP BY`` over the work entries, no row
loaded), then lets :func:`accounting.allocation.runs.compute_period` do the rest. It lives in
``app`` because accounting may not import timesheets (DESIGN §6).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationRun
from accounting.allocation.runs import (
    PeriodAllocation,
    WorkTotals,
    approve_run,
    compute_period,
    store_run,
)
from accounting.periods import Period
from timesheets.models import EntryStatus, UnitType, WorkEntry


def work_totals(session: Session, period: Period) -> WorkTotals:
    """Minutes and units per (service, member or None) over the period, in SQL.

    Units are Σ quantity per unit type in SQL, then × the type's weight here (a handful of
    rows), so the database never multiplies two scaled decimals.
    """
    not_approved = case((WorkEntry.status != EntryStatus.APPROVED.value, 1), else_=0)
    rows = session.execute(
        select(
            WorkEntry.service_id,
            WorkEntry.member_id,
            WorkEntry.unit_type_id,
            func.sum(WorkEntry.minutes),
            func.sum(WorkEntry.quantity),
            func.sum(not_approved),
        )
        .where(WorkEntry.day >= period.start, WorkEntry.day <= period.end)
        .group_by(WorkEntry.service_id, WorkEntry.member_id, WorkEntry.unit_type_id)
    ).all()
    weights = dict(session.execute(select(UnitType.id, UnitType.weight)).all()) if any(
        r[2] is not None for r in rows
    ) else {}
    minutes: dict[tuple[int, int | None], int] = defaultdict(int)
    units: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    unapproved = 0
    for service_id, member_id, unit_type_id, total_minutes, quantity, pending in rows:
        minutes[(service_id, member_id)] += int(total_minutes or 0)
        if unit_type_id is not None and quantity is not None:
            units[(service_id, member_id)] += Decimal(quantity) * weights[unit_type_id]
        unapproved += int(pending or 0)
    return WorkTotals(dict(minutes), dict(units), unapproved)


def allocate_period(
    session: Session, period: Period, service: str | None = None
) -> PeriodAllocation:
    """Compute the allocation of a period (preview: nothing is written)."""
    return compute_period(session, period, work_totals(session, period), service)


def store_period(
    session: Session, period: Period, service: str | None = None, *,
    user_id: int | None = None, note: str = "",
) -> AllocationRun:
    """Compute and store a run (flushes; the caller commits)."""
    return store_run(
        session, period, allocate_period(session, period, service), user_id=user_id, note=note
    )


def approve(session: Session, run: AllocationRun, *, user_id: int | None = None) -> AllocationRun:
    """Approve a stored run after checking, by computing it again, that nothing changed."""
    current = allocate_period(session, run.period, run.inputs.get("service"))
    return approve_run(session, run, user_id=user_id, current=current)
