"""Stored runs: keeping a computed allocation with its inputs and explanations, deleting a run
not approved, and reading a run back (amounts, lines, the shape of a preview)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accounting.allocation.engine import Allocation, MemberShare, ServiceShare
from accounting.allocation.errors import RunError
from accounting.allocation.fingerprint import input_fingerprints
from accounting.allocation.keys import parse_key
from accounting.allocation.models import (
    AllocationKey,
    AllocationLine,
    AllocationRun,
    AllocationRunService,
    RunStatus,
)
from accounting.allocation.runs.results import (
    MemberRef,
    Overheads,
    PeriodAllocation,
    ServiceAllocation,
    ServiceRef,
)
from accounting.audit import record_audit
from accounting.org import Member, Service
from accounting.periods import Period

_F0 = Fraction(0)


def refuse_closed(period: Period, action: str) -> None:
    if period.is_closed:
        raise RunError(f"La période {period.label} est clôturée : impossible de {action}.")


def store_run(
    session: Session, period: Period, result: PeriodAllocation, *, user_id: int | None = None,
    note: str = "", input_digests: dict[str, str] | None = None,
) -> AllocationRun:
    """Keep a computed allocation with its inputs and explanations (status ``stored``), and
    ``input_digests`` (``app.allocation.digest``: what the run page compares with today's).

    Refused when the computation has errors or the period is closed. Lines are inserted in
    bulk; the run is audited, plus one ``store`` event with its totals.
    """
    refuse_closed(period, "enregistrer une répartition")
    if result.period_id != period.id:
        raise RunError("Ce calcul ne correspond pas à cette période.")
    if result.errors:
        raise RunError(
            "Répartition incomplète, rien n'est enregistré : " + " ; ".join(result.errors)
        )
    allocated = [s for s in result.services if s.allocation is not None]
    if not allocated:
        raise RunError(f"Rien à répartir sur {period.label} : aucune charge ni clé.")
    run = AllocationRun(
        period_id=period.id,
        status=RunStatus.STORED.value,
        total=result.total,
        note=note,
        created_by_id=user_id,
        inputs=_run_inputs(result),
        input_digests=input_digests,
    )
    session.add(run)
    session.flush()
    ids = result.member_by_code
    lines: list[dict[str, Any]] = []
    for item in allocated:
        assert item.allocation is not None and item.key is not None
        session.add(
            AllocationRunService(
                run_id=run.id, service_id=item.service.id, period_id=period.id,
                key_id=item.key.id, key_text=item.key.text, costs=item.costs,
                subsidies=item.subsidies, overheads=item.overheads, pool=item.pool,
                inputs=dict(item.inputs, excluded=list(item.allocation.excluded)),
            )
        )
        for share in item.allocation.shares:
            lines.append({
                "run_id": run.id,
                "service_id": item.service.id,
                "member_id": ids[share.code].id,
                "amount": share.amount,
                "exact": str(share.exact),
                "adjustment": share.adjustment,
                "explanation": share.to_dict(),
            })
    session.flush()
    if lines:
        session.execute(insert(AllocationLine), lines)
    record_audit(
        session, "store", AllocationRun.__tablename__, run.id,
        after={"period": result.period_code, "total": result.total, "lines": len(lines),
               "services": [s.service.code for s in allocated]},
    )
    return run


def _run_inputs(result: PeriodAllocation) -> dict[str, Any]:
    """What a run keeps of the period's computation (the services keep their own inputs)."""
    return {
        "period": result.period_code,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "days": result.days,
        "year": result.year,
        "service": result.only,
        "overheads": None if result.overheads is None else {
            "service": result.overheads.service.code,
            "by": result.overheads.by,
            "costs": str(result.overheads.costs),
            "subsidies": str(result.overheads.subsidies),
            "pool": str(result.overheads.pool),
            "shares": {c: s.to_dict() for c, s in result.overheads.shares.items()},
        },
        "warnings": result.warnings,
        "fingerprints": input_fingerprints(result),
    }


def run_amounts(session: Session, run: AllocationRun) -> dict[tuple[str, str], Decimal]:
    """(member code, service code) → amount of a stored run."""
    rows = session.execute(
        select(Member.code, Service.code, AllocationLine.amount)
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id == run.id)
    )
    return {(m, s): amount for m, s, amount in rows}


def delete_run(session: Session, run: AllocationRun) -> None:
    """Delete a stored (not approved) run and its lines."""
    if run.is_approved:
        raise RunError("Une répartition approuvée est figée : elle ne se supprime pas.")
    record_audit(
        session, "delete", AllocationRun.__tablename__, run.id,
        before={"period": run.period.code, "total": run.total},
    )
    session.delete(run)
    session.flush()


def run_lines(session: Session, run: AllocationRun) -> list[AllocationLine]:
    """The lines of a run, by service then member code."""
    return list(
        session.scalars(
            select(AllocationLine)
            .join(Member, Member.id == AllocationLine.member_id)
            .join(Service, Service.id == AllocationLine.service_id)
            .where(AllocationLine.run_id == run.id)
            .order_by(Service.code, Member.code)
        )
    )


def load_run(
    session: Session, run: AllocationRun, *, explain: bool | tuple[str, str] = True,
    service: str | None = None, lines: bool = True,
) -> PeriodAllocation:
    """A stored run as a ``PeriodAllocation`` (the shape of a preview), rebuilt from its stored
    inputs and lines — not recomputed — so screens and workbooks show what was stored.

    ``explain=False`` reads the amounts only (shares without parts: the matrix of a year of
    1 000 members then loads in a few hundred milliseconds); ``explain=(service code, member
    code)`` adds the explanation of that one line. ``service``: that service only (an
    explanation needs its ~1 000 lines, not the run's 18 000); ``lines=False``: the services'
    pools and keys without any share (the run page reads its page of 50 members in SQL,
    ``accounting.allocation.runs.matrix``).
    """
    period = run.period
    wanted = None
    if service is not None:
        wanted = session.scalar(select(Service.id).where(Service.code == service)) or -1
    run_services = _run_services(session, run, wanted, whole=lines and explain is True)
    refs = {} if not lines else {
        mid: MemberRef(mid, code, name)
        for mid, code, name in session.execute(
            select(Member.id, Member.code, Member.name)
            .where(Member.id.in_(select(AllocationLine.member_id)
                                 .where(AllocationLine.run_id == run.id)))
        )
    }
    shares = _stored_shares(session, run, refs, explain,
                            [rs.service_id for rs in run_services]) if lines else {}
    result = PeriodAllocation(
        period_id=period.id, period_code=period.code, period_label=period.label,
        start=period.start, end=period.end, year=run.inputs.get("year", period.start.year),
        members=dict(sorted(refs.items(), key=lambda kv: kv[1].code)), services=[],
        warnings=list(run.inputs.get("warnings", [])), only=run.inputs.get("service"),
    )
    services = {
        s.id: s for s in session.scalars(
            select(Service).where(Service.id.in_([rs.service_id for rs in run_services]))
        )
    }
    result.overheads = _stored_overheads(session, run)
    for rs in sorted(run_services, key=lambda rs: services[rs.service_id].code):
        service = services[rs.service_id]
        inputs = rs.inputs
        key = AllocationKey(
            id=rs.key_id, service_id=rs.service_id, text=rs.key_text,
            valid_from=date.fromisoformat(inputs["key_valid_from"]),
        )
        allocation = Allocation(
            pool=rs.pool, key=parse_key(rs.key_text), period_days=inputs["period_days"],
            common_minutes=inputs["common_minutes"], common_units=Decimal(inputs["common_units"]),
            shares=tuple(sorted(shares.get(rs.service_id, ()), key=lambda s: s.code)),
            excluded=tuple(inputs.get("excluded", ())),
        )
        result.services.append(ServiceAllocation(
            ServiceRef(service.id, service.code, service.name, service.overheads_by),
            rs.costs, rs.subsidies, rs.overheads,
            ServiceShare.from_dict(inputs["overheads"]) if inputs.get("overheads") else None,
            key, allocation, None, dict(inputs),
        ))
    return result


#: What a run page reads of each service's stored inputs (the rest lists every member: 20
#: services × 1 000 members of JSON, 25 ms to decode at each view).
_PAGE_INPUTS = ("key_valid_from", "period_days", "common_minutes", "common_units", "excluded",
                "overheads", "key_periods")


def _run_services(
    session: Session, run: AllocationRun, service_id: int | None, whole: bool
) -> list[Any]:
    """The run's services (only ``service_id``'s if given): whole (every stored input, for a
    workbook or a full read-back) or with the inputs a page shows only (``_PAGE_INPUTS``, read
    from the JSON in SQL), unless one service is asked: its inputs whole."""
    rs = AllocationRunService
    if service_id is not None:
        return list(session.scalars(
            select(rs).where(rs.run_id == run.id, rs.service_id == service_id)))
    if whole:
        return list(run.services)
    out = []
    for row in session.execute(
        select(rs.service_id, rs.key_id, rs.key_text, rs.costs, rs.subsidies, rs.overheads,
               rs.pool, *(rs.inputs[name] for name in _PAGE_INPUTS))
        .where(rs.run_id == run.id)
    ):
        inputs = {name: value for name, value in zip(_PAGE_INPUTS, row[7:], strict=True)
                  if value is not None}
        out.append(SimpleNamespace(
            service_id=row.service_id, key_id=row.key_id, key_text=row.key_text,
            costs=row.costs, subsidies=row.subsidies, overheads=row.overheads, pool=row.pool,
            inputs=inputs))
    return out


def _stored_shares(
    session: Session, run: AllocationRun, refs: dict[int, MemberRef],
    explain: bool | tuple[str, str], service_ids: list[int],
) -> dict[int, list[MemberShare]]:
    """service id → the run's shares of ``service_ids``: explained (``explain=True``), amounts
    only, or amounts with the one explained line ``explain=(service code, member code)``."""
    shares: dict[int, list[MemberShare]] = defaultdict(list)
    of_run = (AllocationLine.run_id == run.id, AllocationLine.service_id.in_(service_ids))
    if explain is True:
        for service_id, explanation in session.execute(
            select(AllocationLine.service_id, AllocationLine.explanation).where(*of_run)
        ):
            shares[service_id].append(MemberShare.from_dict(explanation))
    else:
        wanted = explain if isinstance(explain, tuple) else None
        codes = {s.id: s.code for s in session.scalars(select(Service))}
        for line_id, service_id, member_id, amount, adjustment, exact in session.execute(
            select(AllocationLine.id, AllocationLine.service_id, AllocationLine.member_id,
                   AllocationLine.amount, AllocationLine.adjustment, AllocationLine.exact)
            .where(*of_run)
        ):
            code = refs[member_id].code
            if wanted == (codes[service_id], code):
                line = session.get(AllocationLine, line_id)
                assert line is not None
                shares[service_id].append(MemberShare.from_dict(line.explanation))
                continue
            shares[service_id].append(MemberShare(
                code=code, active_days=0, active_fraction=_F0, parts=(),
                exact=Fraction(exact), floored=amount - adjustment, adjustment=adjustment,
                amount=amount,
            ))
    return shares


def _stored_overheads(session: Session, run: AllocationRun) -> Overheads | None:
    """The run's step-down of the overheads, as stored (``None`` without overheads)."""
    oh = run.inputs.get("overheads")
    if not oh:
        return None
    service = session.scalars(select(Service).where(Service.code == oh["service"])).one()
    return Overheads(
        ServiceRef(service.id, service.code, service.name, oh["by"]),
        Decimal(oh["costs"]), Decimal(oh["subsidies"]),
        {c: ServiceShare.from_dict(d) for c, d in oh["shares"].items()},
    )


def line_share(line: AllocationLine) -> MemberShare:
    """A stored line's explanation as the engine's ``MemberShare`` (exact values included),
    e.g. for ``describe_key_fr(parse_key(run_service.key_text), line_share(line))``."""
    return MemberShare.from_dict(line.explanation)
