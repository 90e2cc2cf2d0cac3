"""Choosing what the allocation workbook shows, for the CLI and the download button."""

from __future__ import annotations

from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.errors import AllocationError
from accounting.allocation.models import AllocationRun, RunStatus
from accounting.allocation.runs import PeriodAllocation, load_run
from accounting.budgets.actuals import budget_vs_actual
from accounting.org import Carrier
from accounting.periods import Period
from accounting.workbooks.allocation import write_allocation_workbook
from accounting.workbooks.charges import charges_for
from app.allocation.services import allocate_period
from app.formatting import date_fr


def default_run(session: Session, period: Period) -> AllocationRun | None:
    """The approved run of the period, else the last stored one."""
    runs = session.scalars(
        select(AllocationRun)
        .where(AllocationRun.period_id == period.id)
        .order_by(AllocationRun.id.desc())
    ).all()
    approved = [r for r in runs if r.status == RunStatus.APPROVED]
    return (approved or runs or [None])[0]


def run_status_fr(run: AllocationRun | None) -> str:
    if run is None:
        return "Aperçu : répartition calculée à l'instant, non enregistrée."
    if run.is_replaced:
        return (f"Répartition n° {run.id}, approuvée le {date_fr(run.approved_at)}, remplacée "
                f"le {date_fr(run.replaced_at)} : elle n'est plus facturée.")
    if run.is_approved:
        return f"Répartition n° {run.id}, approuvée le {date_fr(run.approved_at)}."
    return f"Répartition n° {run.id}, enregistrée le {date_fr(run.created_at)}, non approuvée."


def workbook_for(
    session: Session, period: Period, out: IO[bytes], run: AllocationRun | None = None,
    *, use_default: bool = True,
) -> str:
    """Write the workbook of ``run`` (or of the period's default run, or a preview); returns
    what it shows, in words. A preview with refusals raises ``AllocationError``."""
    if run is None and use_default:
        run = default_run(session, period)
    if run is not None:
        result: PeriodAllocation = load_run(session, run)
    else:
        result = allocate_period(session, period)
        if result.errors:
            raise AllocationError("Répartition impossible : " + " ; ".join(result.errors))
    carrier = session.scalars(select(Carrier).limit(1)).first()
    status = run_status_fr(run)
    write_allocation_workbook(
        result, charges_for(session, result), out, status=status,
        company=carrier.name if carrier else "",
        budget=budget_vs_actual(session, period.start.year),
    )
    return status
