"""What the run page says about corrections (DESIGN §4): the run it replaced or that replaced
it, the inputs changed since it was computed, the members with a negative total (they receive
a credit note), the work still to validate before approving, the period's lock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.approval import approved_runs_replaced_by, negative_totals
from accounting.allocation.models import AllocationRun
from accounting.allocation.runs.results import PeriodAllocation
from accounting.invoicing.locks import correction_open, is_invoiced
from accounting.org import Carrier, Member
from app.allocation import cache
from app.allocation.blueprint import bp
from app.allocation.services import allocate_period, unvalidated_entries


def run_context(
    session: Session, run: AllocationRun, result: PeriodAllocation, fresh: bool = False
) -> dict[str, Any]:
    """The corrections part of a run page's context (``fresh``: check the inputs again even if
    a check of unchanged inputs is cached, « Vérifier les données maintenant »)."""
    replaced_by = session.scalars(
        select(AllocationRun).where(AllocationRun.replaces_id == run.id)
    ).first()
    carrier_code = session.scalar(
        select(Member.code).join(Carrier, Carrier.member_id == Member.id).limit(1)
    )
    changed: list[str] = []
    if not run.is_replaced:
        service = run.inputs.get("service")
        changed = cache.changed_since(session, run, lambda: cache.preview(
            session, run.period, service, lambda: allocate_period(session, run.period, service),
            fresh,
        ), fresh)
    return {
        "replaced_by": replaced_by,
        "replaces": session.get(AllocationRun, run.replaces_id) if run.replaces_id else None,
        "changed_inputs": changed,
        "negative": negative_totals(result, exclude=carrier_code),
        "unvalidated": 0 if run.is_approved or run.is_replaced
        else unvalidated_entries(session, run.period),
        "to_replace": [] if run.is_approved or run.is_replaced
        else approved_runs_replaced_by(session, run),
        "invoiced": is_invoiced(session, run.period),
        "correction": correction_open(session, run.period),
    }


@bp.app_template_global()
def key_period_rows(item: Any) -> list[dict[str, Any]]:
    """A service's key periods (``inputs["key_periods"]``, stored as JSON text) with real
    dates and amounts, for the run page and the explanation."""
    spans = (item.inputs or {}).get("key_periods") or []
    return [
        {"start": date.fromisoformat(s["start"]), "end": date.fromisoformat(s["end"]),
         "key": s["key"], "costs": Decimal(s["costs"]), "subsidies": Decimal(s["subsidies"]),
         "overheads": Decimal(s["overheads"]), "pool": Decimal(s["pool"]),
         "amounts": {code: Decimal(a) for code, a in s["amounts"].items()}}
        for s in spans
    ]  # fmt: skip
