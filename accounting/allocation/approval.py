"""The treasurer's approval with its two ways past a dead end (DESIGN §4).

* **Supersede**: approving a run for a period that already has an approved run replaces it —
  with a written reason, required and audited. The earlier run is marked ``replaced`` (kept,
  readable, never invoiced again); the new one records which run it replaced and why. Invoicing
  the period again then issues only the differences (``accounting.invoicing.differences``).
* **Unvalidated work**: entries of the period still draft or submitted block the approval,
  unless the treasurer writes why it may go ahead anyway (audited, shown on the run).

Two approvals of the same period at once wait for each other on the period's row (``SELECT …
FOR UPDATE`` on PostgreSQL; SQLite has one writer): the second sees what the first did. The
unique index « one approved run per period and service » stays the last guard. Flushes, never
commits.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounting.allocation.errors import RunError
from accounting.allocation.models import AllocationRun, AllocationRunService, RunStatus
from accounting.allocation.runs import PeriodAllocation, approve_run
from accounting.audit import record_audit
from accounting.db import utcnow
from accounting.money import ZERO
from accounting.periods import Period
from accounting.wording import plural


class WorkNotValidated(RunError):
    """Work of the period is still draft or submitted, and no override reason was given."""


def negative_totals(
    result: PeriodAllocation, exclude: str | None = None
) -> list[tuple[str, Decimal]]:
    """(member code, total) of the members whose total for the period is negative: they will
    receive a credit note, which the approval page says before approving."""
    return [
        (code, total) for code, total in result.member_totals().items()
        if total < ZERO and code != exclude
    ]


def approved_runs_replaced_by(session: Session, run: AllocationRun) -> list[AllocationRun]:
    """The approved runs of the same period sharing a service with ``run``."""
    service_ids = [s.service_id for s in run.services]
    sharing = select(AllocationRunService.run_id).where(
        AllocationRunService.service_id.in_(service_ids)
    )
    return list(session.scalars(
        select(AllocationRun)
        .where(
            AllocationRun.period_id == run.period_id,
            AllocationRun.status == RunStatus.APPROVED.value,
            AllocationRun.id != run.id,
            AllocationRun.id.in_(sharing),
        )
        .order_by(AllocationRun.id)
    ))


def approve_or_replace(
    session: Session,
    run: AllocationRun,
    *,
    user_id: int | None = None,
    current: PeriodAllocation | None = None,
    unvalidated: int = 0,
    reason: str = "",
    work_override: str = "",
) -> AllocationRun:
    """Approve ``run``, replacing the approved run of its period if there is one.

    Refused: a run already approved or replaced; ``unvalidated`` entries without a
    ``work_override`` reason; an approved run to replace without a ``reason`` (blanks are no
    reason), or one covering services the new run does not; and everything
    :func:`accounting.allocation.runs.approve_run` refuses (closed period, overlapping period,
    data changed since the run was stored).
    """
    session.execute(select(Period.id).where(Period.id == run.period_id).with_for_update())
    session.refresh(run)
    period = run.period
    if run.is_replaced:
        raise RunError(f"La répartition n° {run.id} a été remplacée : elle ne s'approuve plus.")
    if run.is_approved:
        raise RunError("Cette répartition est déjà approuvée.")
    work_override = (work_override or "").strip()
    if unvalidated and not work_override:
        many = unvalidated > 1
        raise WorkNotValidated(
            f"{plural(unvalidated, 'saisie')} de temps de {period.label} "
            + ("ne sont pas validées" if many else "n'est pas validée")
            + " (brouillon ou soumise) : validez-" + ("les" if many else "la")
            + " d'abord, ou écrivez pourquoi approuver quand même."
        )
    reason = (reason or "").strip()
    earlier = approved_runs_replaced_by(session, run)
    if earlier and not reason:
        numbers = ", ".join(f"n° {r.id}" for r in earlier)
        raise RunError(
            f"La répartition {numbers} de {period.label} est déjà approuvée : la remplacer "
            "demande un motif écrit (il est conservé au journal et sur la répartition)."
        )
    mine = {s.service_id for s in run.services}
    for other in earlier:
        missing = sorted(s.service.code for s in other.services if s.service_id not in mine)
        if missing:
            raise RunError(
                f"La répartition n° {other.id} couvre aussi {', '.join(missing)} : calculez "
                "tous ses services pour la remplacer."
            )
    for other in earlier:
        other.status = RunStatus.REPLACED.value
        other.replaced_at = utcnow()
        session.execute(
            update(AllocationRunService)
            .where(AllocationRunService.run_id == other.id)
            .values(approved=False)
        )
    session.flush()
    approve_run(session, run, user_id=user_id, current=current)
    if earlier:
        run.replaces_id = earlier[-1].id
        run.replace_reason = reason
        record_audit(
            session, "replace", AllocationRun.__tablename__, run.id,
            before={"approved": [r.id for r in earlier]},
            after={"approved": run.id, "period": period.code, "reason": reason},
        )
    if unvalidated:
        run.work_override = work_override
        record_audit(
            session, "override", AllocationRun.__tablename__, run.id,
            after={"unvalidated": unvalidated, "reason": work_override},
        )
    session.flush()
    return run
