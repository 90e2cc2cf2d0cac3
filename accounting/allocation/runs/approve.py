"""The treasurer's approval of a stored run (it freezes it; invoices are built on it), and the
approved runs of a period."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounting.allocation.engine import ZERO
from accounting.allocation.errors import RunError
from accounting.allocation.models import AllocationRun, AllocationRunService, RunStatus
from accounting.allocation.runs.results import PeriodAllocation
from accounting.allocation.runs.store import refuse_closed, run_amounts
from accounting.audit import record_audit
from accounting.db import utcnow
from accounting.org import Service
from accounting.periods import Period


def approve_run(
    session: Session, run: AllocationRun, *, user_id: int | None = None,
    current: PeriodAllocation | None = None,
) -> AllocationRun:
    """The treasurer's approval: freezes the run (invoices are built on it).

    Refused when already approved, when the period is closed, when another approved run
    covers some of the same days for one of its services, or — given ``current``, the
    allocation recomputed now — when the data changed since the run was stored.
    """
    if run.is_approved:
        raise RunError("Cette répartition est déjà approuvée.")
    period = run.period
    refuse_closed(period, "approuver une répartition")
    service_ids = [s.service_id for s in run.services]
    clash = session.execute(
        select(AllocationRun.id, Period, Service.name)
        .join(Period, Period.id == AllocationRun.period_id)
        .join(AllocationRunService, AllocationRunService.run_id == AllocationRun.id)
        .join(Service, Service.id == AllocationRunService.service_id)
        .where(
            AllocationRun.status == RunStatus.APPROVED.value,
            AllocationRunService.service_id.in_(service_ids),
            Period.start <= period.end,
            Period.end >= period.start,
        )
        .limit(1)
    ).first()
    if clash is not None:
        other_id, other_period, service_name = clash
        raise RunError(
            f"La répartition n° {other_id} ({other_period.label}) est déjà approuvée pour "
            f"{service_name} sur ces dates : une seule répartition approuvée par service et "
            "par jour."
        )
    if current is not None:
        changed = _differences(run_amounts(session, run), current, service_ids, session)
        if changed:
            raise RunError(
                "Les données ont changé depuis l'enregistrement de cette répartition ("
                + ", ".join(changed[:5]) + ("…" if len(changed) > 5 else "")
                + ") : enregistrez une nouvelle répartition puis approuvez-la."
            )
    run.status = RunStatus.APPROVED.value
    run.approved_at = utcnow()
    run.approved_by_id = user_id
    session.execute(
        update(AllocationRunService)
        .where(AllocationRunService.run_id == run.id)
        .values(approved=True)
    )
    session.flush()
    record_audit(
        session, "approve", AllocationRun.__tablename__, run.id,
        after={"period": period.code, "total": run.total},
    )
    return run


def _differences(
    stored: Mapping[tuple[str, str], Decimal], current: PeriodAllocation,
    service_ids: list[int], session: Session,
) -> list[str]:
    codes = set(session.scalars(select(Service.code).where(Service.id.in_(service_ids))))
    if current.errors:
        return [current.errors[0]]
    now: dict[tuple[str, str], Decimal] = {}
    for item in current.services:
        if item.service.code in codes and item.allocation is not None:
            for share in item.allocation.shares:
                now[(share.code, item.service.code)] = share.amount
    keys = sorted(set(stored) | set(now))
    return [
        f"{member} / {service} : {stored.get((member, service), ZERO)} → "
        f"{now.get((member, service), ZERO)}"
        for member, service in keys
        if stored.get((member, service), ZERO) != now.get((member, service), ZERO)
    ]


def approved_run_services(session: Session, period: Period) -> list[AllocationRunService]:
    """The approved run services whose period lies inside ``period`` (for invoices)."""
    return list(
        session.scalars(
            select(AllocationRunService)
            .join(Period, Period.id == AllocationRunService.period_id)
            .where(
                AllocationRunService.approved,
                Period.start >= period.start,
                Period.end <= period.end,
            )
            .order_by(Period.start, AllocationRunService.service_id)
        )
    )
