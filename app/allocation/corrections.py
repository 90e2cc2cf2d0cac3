"""What the run page says about corrections (DESIGN §4): the run it replaced or that replaced
it, the inputs changed since it was computed, the members with a negative total (they receive
a credit note), the work still to validate before approving, the period's lock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.approval import approved_runs_replaced_by
from accounting.allocation.fingerprint import changed_inputs, input_fingerprints
from accounting.allocation.models import AllocationRun
from accounting.allocation.runs.matrix import run_negative_totals
from accounting.invoicing.locks import correction_open, is_invoiced
from accounting.org import Carrier, Member
from app.allocation import cache
from app.allocation.blueprint import bp
from app.allocation.digest import changed_kinds, period_digests
from app.allocation.services import allocate_period, unvalidated_entries


def run_context(session: Session, run: AllocationRun, fresh: bool = False) -> dict[str, Any]:
    """The corrections part of a run page's context.

    Changed inputs: the run's input digests against today's (``app.allocation.digest``: a
    few aggregate queries, not the period computed again). A run stored before digests were
    kept has none: ``changed_inputs`` is then None (« non comparées »). ``fresh`` (« Vérifier
    les données maintenant ») reads the work again and adds the full check: the period
    computed again and the engine's fingerprints compared."""
    replaced_by = session.scalars(
        select(AllocationRun).where(AllocationRun.replaces_id == run.id)
    ).first()
    carrier_code = session.scalar(
        select(Member.code).join(Carrier, Carrier.member_id == Member.id).limit(1)
    )
    changed: list[str] | None = []
    unvalidated: int | None = None
    if not run.is_replaced:
        if run.input_digests:
            period = run.period
            now = cache.digests(session, period, lambda: period_digests(session, period), fresh)
            changed, unvalidated = changed_kinds(run.input_digests, now.digests), now.unvalidated
        if fresh:  # the full check: the period computed again, the engine's fingerprints
            current = allocate_period(session, run.period, run.inputs.get("service"))
            found = changed_inputs(run.inputs.get("fingerprints"), input_fingerprints(current))
            changed = list(dict.fromkeys([*(changed or []), *found]))
        elif not run.input_digests:
            changed = None
    frozen = run.is_approved or run.is_replaced
    return {
        "replaced_by": replaced_by,
        "replaces": session.get(AllocationRun, run.replaces_id) if run.replaces_id else None,
        "changed_inputs": changed,
        "negative": run_negative_totals(session, run, exclude=carrier_code),
        "unvalidated": 0 if frozen else (
            unvalidated if unvalidated is not None else unvalidated_entries(session, run.period)),
        "to_replace": [] if frozen else approved_runs_replaced_by(session, run),
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
