"""Allocating a period from the database: keys in force, pools, step-down, stored runs.

Design: :func:`compute_period` gathers the plain inputs of the engine with a few aggregate
queries (costs and subsidies by service with ``GROUP BY``, members, the fiscal year's figures,
the keys) — no row is loaded per work entry. The work logged (minutes and units per service and
member) comes in as :class:`WorkTotals`, because timesheets sit above accounting in the layers;
``app.allocation.services.allocate_period`` runs that query and calls this module.

A refusal of the engine for one service does not hide the others: it is kept on that service
(``ServiceAllocation.error``) and in ``PeriodAllocation.errors``; such a result can be shown but
not stored. :func:`store_run` keeps inputs and results (lines with explanations),
:func:`approve_run` freezes a run after checking that the data has not changed since and that
no approved run already covers the same days for the same service.

Services here flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from accounting.allocation.engine import (
    ZERO,
    Allocation,
    MemberBasis,
    MemberShare,
    ServiceBasis,
    ServiceShare,
    allocate,
    step_down,
)
from accounting.allocation.errors import (
    AllocationError,
    InvalidFixedPercentages,
    NoKey,
    RunError,
)
from accounting.allocation.keys import BasisName, Key, format_key, parse_key
from accounting.allocation.models import (
    AllocationKey,
    AllocationLine,
    AllocationRun,
    AllocationRunService,
    RunStatus,
)
from accounting.audit import record_audit
from accounting.costs import CostKind, totals_by_service
from accounting.db import utcnow
from accounting.org import Member, MemberFigures, Service
from accounting.periods import Period, PeriodStatus

_F0 = Fraction(0)

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class WorkTotals:
    """Work logged in a period: minutes and units (Σ quantity × weight) per
    (service id, member id), member ``None`` being common work."""

    minutes: Mapping[tuple[int, int | None], int] = field(default_factory=dict)
    units: Mapping[tuple[int, int | None], Decimal] = field(default_factory=dict)
    #: entries of the period not approved yet (a warning, not a refusal)
    unapproved: int = 0

    def service_minutes(self) -> dict[int, int]:
        """Minutes per service, direct and common work together (the step-down by hours)."""
        result: dict[int, int] = defaultdict(int)
        for (service_id, _), minutes in self.minutes.items():
            result[service_id] += minutes
        return dict(result)


@dataclass(frozen=True)
class MemberRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class ServiceRef:
    id: int
    code: str
    name: str
    overheads_by: str | None = None


@dataclass
class ServiceAllocation:
    """One service of a period: its pool and its allocation (or the refusal)."""

    service: ServiceRef
    costs: Decimal
    subsidies: Decimal
    overheads: Decimal = ZERO
    overheads_share: ServiceShare | None = None
    key: AllocationKey | None = None
    allocation: Allocation | None = None
    error: AllocationError | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    #: the engine's inputs (every member), kept to try other keys on the same figures
    bases: tuple[MemberBasis, ...] = ()
    common_minutes: int = 0
    common_units: Decimal = ZERO

    @property
    def pool(self) -> Decimal:
        return self.costs - self.subsidies + self.overheads

    @property
    def key_text(self) -> str:
        return self.key.text if self.key is not None else ""


@dataclass
class Overheads:
    """The overheads service of the period and how its pool was stepped down."""

    service: ServiceRef
    costs: Decimal
    subsidies: Decimal
    shares: dict[str, ServiceShare] = field(default_factory=dict)
    error: AllocationError | None = None

    @property
    def pool(self) -> Decimal:
        return self.costs - self.subsidies

    @property
    def by(self) -> str:
        return self.service.overheads_by or ""


@dataclass
class PeriodAllocation:
    """Everything computed for a period, before (or without) storing it."""

    period_id: int
    period_code: str
    period_label: str
    start: date
    end: date
    year: int
    members: dict[int, MemberRef]
    services: list[ServiceAllocation]
    overheads: Overheads | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the one service computed, or None for every service
    only: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def member_by_code(self) -> dict[str, MemberRef]:
        return {m.code: m for m in self.members.values()}

    def service(self, code: str) -> ServiceAllocation:
        for item in self.services:
            if item.service.code == code:
                return item
        raise KeyError(code)

    def amounts(self) -> dict[str, dict[str, Decimal]]:
        """member code → service code → amount, for members with at least one line."""
        matrix: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for item in self.services:
            if item.allocation is None:
                continue
            for share in item.allocation.shares:
                matrix[share.code][item.service.code] = share.amount
        return dict(sorted(matrix.items()))

    def member_totals(self) -> dict[str, Decimal]:
        return {code: sum(row.values(), ZERO) for code, row in self.amounts().items()}

    def service_totals(self) -> dict[str, Decimal]:
        return {
            item.service.code: item.allocation.total
            for item in self.services
            if item.allocation is not None
        }

    @property
    def total(self) -> Decimal:
        return sum(self.service_totals().values(), ZERO)


# --------------------------------------------------------------------------- keys


def keys_of_service(session: Session, service_id: int) -> list[AllocationKey]:
    """Every version of a service's key, oldest first."""
    return list(
        session.scalars(
            select(AllocationKey)
            .where(AllocationKey.service_id == service_id)
            .order_by(AllocationKey.valid_from)
        )
    )


def _key_for(
    versions: list[AllocationKey], service: ServiceRef, start: date, end: date
) -> AllocationKey:
    """The key in force on every day of [start, end]; refused when none is, or when a new
    one starts inside the period (allocate the period in smaller parts then)."""
    before = [k for k in versions if k.valid_from <= start]
    inside = [k for k in versions if start < k.valid_from <= end]
    if inside:
        raise NoKey(
            f"{service.name} : la clé change le {inside[0].valid_from:%d/%m/%Y}, au milieu de la "
            "période. Répartissez les périodes avant et après ce changement séparément."
        )
    if not before:
        raise NoKey(
            f"{service.name} : aucune clé de répartition en vigueur au {start:%d/%m/%Y}. "
            "Définissez-la dans « Clés »."
        )
    return before[-1]


def key_in_force(session: Session, service: Service, start: date, end: date) -> AllocationKey:
    """The key of ``service`` in force over the whole of [start, end] (raises ``NoKey``)."""
    ref = ServiceRef(service.id, service.code, service.name, service.overheads_by)
    return _key_for(keys_of_service(session, service.id), ref, start, end)


def _locked_until(session: Session, service_id: int) -> date | None:
    """The last day whose allocation is settled for a service: closed periods and periods of
    approved runs. A key may not start on or before it (it would rewrite the past)."""
    closed = session.scalars(
        select(Period.end).where(Period.status == PeriodStatus.CLOSED.value)
        .order_by(Period.end.desc()).limit(1)
    ).first()
    approved = session.scalars(
        select(Period.end)
        .join(AllocationRunService, AllocationRunService.period_id == Period.id)
        .where(AllocationRunService.service_id == service_id, AllocationRunService.approved)
        .order_by(Period.end.desc()).limit(1)
    ).first()
    days = [d for d in (closed, approved) if d is not None]
    return max(days) if days else None


def set_key(
    session: Session,
    service: Service,
    text: str,
    valid_from: date,
    *,
    agreed_on: date | None = None,
    agreed_by: str = "",
    user_id: int | None = None,
) -> AllocationKey:
    """Record the key agreed for ``service`` from ``valid_from`` (a new version; the version of
    the same date is replaced). Refused when it would apply to a closed or approved period, or
    when it names members that do not exist. Flushes, never commits."""
    if service.overheads_by:
        raise AllocationError(
            f"{service.name} est le service des frais de structure : il n'a pas de clé, il est "
            f"réparti sur les autres services ({service.overheads_by})."
        )
    key = parse_key(text)
    _check_fixed_codes(session, key)
    locked = _locked_until(session, service.id)
    if locked is not None and valid_from <= locked:
        raise AllocationError(
            f"Une nouvelle clé ne réécrit pas le passé : les répartitions sont arrêtées "
            f"jusqu'au {locked:%d/%m/%Y} (période clôturée ou répartition approuvée). "
            f"Choisissez une date d'effet après le {locked:%d/%m/%Y}."
        )
    if len(agreed_by) > 200:
        raise AllocationError("« Convenue par » : 200 caractères au plus.")
    row = session.scalars(
        select(AllocationKey).where(
            AllocationKey.service_id == service.id, AllocationKey.valid_from == valid_from
        )
    ).one_or_none()
    if row is None:
        row = AllocationKey(service_id=service.id, valid_from=valid_from, created_by_id=user_id)
        session.add(row)
    row.text = format_key(key)
    row.agreed_on = agreed_on
    row.agreed_by = agreed_by.strip()
    session.flush()
    return row


def _check_fixed_codes(session: Session, key: Key) -> None:
    codes = {
        code for basis in key.bases if basis.name is BasisName.FIXED for code in basis.percentages
    }
    if not codes:
        return
    known = set(session.scalars(select(Member.code).where(Member.code.in_(codes))))
    unknown = sorted(codes - known)
    if unknown:
        raise InvalidFixedPercentages(
            f"fixed(...) nomme des adhérents inconnus : {', '.join(unknown)}.", unknown
        )


# --------------------------------------------------------------------------- computing


def _services(session: Session, with_activity: Iterable[int]) -> list[ServiceRef]:
    ids = set(with_activity)
    rows = session.execute(
        select(Service.id, Service.code, Service.name, Service.overheads_by, Service.active)
        .order_by(Service.code)
    )
    return [
        ServiceRef(sid, code, name, overheads_by)
        for sid, code, name, overheads_by, active in rows
        if active or sid in ids
    ]


def _members(
    session: Session, start: date, end: date, year: int
) -> tuple[dict[int, MemberRef], dict[int, tuple[int, Decimal | None, Decimal | None]]]:
    """Members (id → ref) and their (active days, revenue, headcount) for the period."""
    figures = {
        member_id: (revenue, headcount)
        for member_id, revenue, headcount in session.execute(
            select(MemberFigures.member_id, MemberFigures.revenue, MemberFigures.headcount)
            .where(MemberFigures.year == year)
        )
    }
    refs: dict[int, MemberRef] = {}
    bases: dict[int, tuple[int, Decimal | None, Decimal | None]] = {}
    rows = session.execute(
        select(Member.id, Member.code, Member.name, Member.joined_on, Member.left_on)
        .order_by(Member.code)
    )
    for member_id, code, name, joined_on, left_on in rows:
        first = max(start, joined_on)
        last = min(end, left_on) if left_on else end
        days = max(0, (last - first).days + 1)
        revenue, headcount = figures.get(member_id, (None, None))
        refs[member_id] = MemberRef(member_id, code, name)
        bases[member_id] = (days, revenue, headcount)
    return refs, bases


def compute_period(
    session: Session, period: Period, work: WorkTotals, service_code: str | None = None
) -> PeriodAllocation:
    """Compute the allocation of ``period`` (every service, or only ``service_code``):
    pools, step-down of the overheads, the key in force, the engine. Nothing is written."""
    start, end, year = period.start, period.end, period.start.year
    costs = totals_by_service(session, CostKind.COST, start, end)
    subsidies = totals_by_service(session, CostKind.SUBSIDY, start, end)
    active_ids = {sid for sid, _ in work.minutes} | {sid for sid, _ in work.units}
    services = _services(session, set(costs) | set(subsidies) | active_ids)
    members, bases = _members(session, start, end, year)
    result = PeriodAllocation(
        period_id=period.id, period_code=period.code, period_label=period.label,
        start=start, end=end, year=year, members=members, services=[], only=service_code,
    )
    if work.unapproved:
        result.warnings.append(
            f"{work.unapproved} saisie(s) de temps de la période ne sont pas encore validées : "
            "elles sont comptées."
        )

    overheads_services = [s for s in services if s.overheads_by]
    if len(overheads_services) > 1:
        names = ", ".join(s.name for s in overheads_services)
        result.errors.append(f"Un seul service de frais de structure est possible ({names}).")
        overheads_services = overheads_services[:1]
    direct = [s for s in services if not s.overheads_by]
    if service_code is not None:
        if service_code not in {s.code for s in services}:
            raise AllocationError(f"Service inconnu : {service_code}.")
        if overheads_services and overheads_services[0].code == service_code:
            raise AllocationError(
                f"{overheads_services[0].name} est réparti sur les autres services, pas sur "
                "les adhérents : choisissez un autre service."
            )

    if overheads_services:
        oh = overheads_services[0]
        result.overheads = Overheads(oh, costs.get(oh.id, ZERO), subsidies.get(oh.id, ZERO))
        minutes_by_service = work.service_minutes()
        try:
            result.overheads.shares = step_down(
                result.overheads.pool,
                [
                    ServiceBasis(s.code, costs.get(s.id, ZERO), minutes_by_service.get(s.id, 0))
                    for s in direct
                ],
                oh.overheads_by,  # type: ignore[arg-type]
            )
        except AllocationError as error:
            result.overheads.error = error
            result.errors.append(f"{oh.name} : {error}")
            result.warnings.append(
                "Les frais de structure ne sont pas inclus dans les montants ci-dessous."
            )

    versions: dict[int, list[AllocationKey]] = defaultdict(list)
    for key in session.scalars(select(AllocationKey).order_by(AllocationKey.valid_from)):
        versions[key.service_id].append(key)

    for service in direct:
        if service_code is not None and service.code != service_code:
            continue
        item = ServiceAllocation(
            service, costs.get(service.id, ZERO), subsidies.get(service.id, ZERO)
        )
        if result.overheads is not None and service.code in result.overheads.shares:
            item.overheads_share = result.overheads.shares[service.code]
            item.overheads = item.overheads_share.amount
        _member_bases(item, members, bases, work)
        try:
            item.key = _key_for(versions[service.id], service, start, end)
        except NoKey as error:
            item.error = error
            if item.pool == 0 and service_code is None:
                continue  # nothing to share and no key: not an error, nothing to show
            if item.pool != 0:
                result.errors.append(str(error))
        result.services.append(item)
        if item.key is not None:
            _allocate_service(item, result)
    return result


def _member_bases(
    item: ServiceAllocation,
    members: Mapping[int, MemberRef],
    bases: Mapping[int, tuple[int, Decimal | None, Decimal | None]],
    work: WorkTotals,
) -> None:
    """Fill the engine's inputs of one service (every member, active or not)."""
    sid = item.service.id
    item.bases = tuple(
        MemberBasis(
            ref.code, *bases[member_id],
            work.minutes.get((sid, member_id), 0), work.units.get((sid, member_id), ZERO),
        )
        for member_id, ref in members.items()
    )
    item.common_minutes = work.minutes.get((sid, None), 0)
    item.common_units = work.units.get((sid, None), ZERO)


def _allocate_service(item: ServiceAllocation, result: PeriodAllocation) -> None:
    assert item.key is not None
    item.inputs = {
        "key": item.key.text,
        "key_valid_from": item.key.valid_from.isoformat(),
        "period_days": result.days,
        "year": result.year,
        "common_minutes": item.common_minutes,
        "common_units": str(item.common_units),
        #: code, active days, revenue, headcount, minutes, units (members active or named)
        "members": [
            [m.code, m.active_days, _str(m.revenue), _str(m.headcount), m.minutes, str(m.units)]
            for m in item.bases
            if m.active_days or m.minutes or m.units
        ],
        "overheads": item.overheads_share.to_dict() if item.overheads_share else None,
    }
    try:
        item.allocation = allocate(
            item.pool, item.key.key, item.bases, result.days, item.common_minutes,
            item.common_units, year=result.year,
        )
    except AllocationError as error:
        item.error = error
        result.errors.append(f"{item.service.name} : {error}")


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def replay(inputs: Mapping[str, Any], pool: Decimal) -> Allocation:
    """Recompute a stored service allocation from its stored inputs alone (members not listed
    had no active day)."""
    key = parse_key(inputs["key"])
    listed = [
        MemberBasis(
            code, days, None if revenue is None else Decimal(revenue),
            None if headcount is None else Decimal(headcount), minutes, Decimal(units),
        )
        for code, days, revenue, headcount, minutes, units in inputs["members"]
    ]
    named = {c for b in key.bases if b.name is BasisName.FIXED for c in b.percentages}
    listed += [MemberBasis(code, 0) for code in sorted(named - {m.code for m in listed})]
    return allocate(
        pool, key, listed, inputs["period_days"], inputs["common_minutes"],
        Decimal(inputs["common_units"]), year=inputs["year"],
    )


@dataclass
class Candidate:
    """One candidate key tried on a period's figures."""

    text: str
    key: Key | None = None
    allocation: Allocation | None = None
    error: AllocationError | None = None


@dataclass
class KeyComparison:
    """Candidate keys side by side on the same pool and bases (the members decide before they
    vote): amounts per member for each candidate."""

    result: PeriodAllocation
    item: ServiceAllocation
    candidates: list[Candidate]

    def rows(self) -> list[tuple[MemberRef, list[Decimal | None]]]:
        refs = self.result.member_by_code
        codes = sorted({
            s.code for c in self.candidates if c.allocation for s in c.allocation.shares
        })
        return [
            (refs[code], [
                c.allocation[code].amount
                if c.allocation is not None and c.allocation.get(code) else None
                for c in self.candidates
            ])
            for code in codes
        ]


def compare_keys(
    session: Session, period: Period, work: WorkTotals, service_code: str, texts: Iterable[str]
) -> KeyComparison:
    """Allocate ``service_code``'s pool of ``period`` by each candidate key text (the key in
    force, if any, is not needed). Parse errors and refusals are kept per candidate."""
    result = compute_period(session, period, work, service_code)
    item = result.service(service_code)
    candidates = []
    for text in texts:
        candidate = Candidate(text)
        candidates.append(candidate)
        try:
            candidate.key = parse_key(text)
            candidate.allocation = allocate(
                item.pool, candidate.key, item.bases, result.days, item.common_minutes,
                item.common_units, year=result.year,
            )
        except AllocationError as error:
            candidate.error = error
    return KeyComparison(result, item, candidates)


# --------------------------------------------------------------------------- runs


def _refuse_closed(period: Period, action: str) -> None:
    if period.is_closed:
        raise RunError(f"La période {period.label} est clôturée : impossible de {action}.")


def store_run(
    session: Session, period: Period, result: PeriodAllocation, *, user_id: int | None = None,
    note: str = "",
) -> AllocationRun:
    """Keep a computed allocation with its inputs and explanations (status ``stored``).

    Refused when the computation has errors or the period is closed. Lines are inserted in
    bulk; the run is audited, plus one ``store`` event with its totals.
    """
    _refuse_closed(period, "enregistrer une répartition")
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
        inputs={
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
        },
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


def run_amounts(session: Session, run: AllocationRun) -> dict[tuple[str, str], Decimal]:
    """(member code, service code) → amount of a stored run."""
    rows = session.execute(
        select(Member.code, Service.code, AllocationLine.amount)
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id == run.id)
    )
    return {(m, s): amount for m, s, amount in rows}


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
    _refuse_closed(period, "approuver une répartition")
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
    session: Session, run: AllocationRun, *, explain: bool | tuple[str, str] = True
) -> PeriodAllocation:
    """A stored run as a ``PeriodAllocation`` (the shape of a preview), rebuilt from its stored
    inputs and lines — not recomputed — so screens and workbooks show what was stored.

    ``explain=False`` reads the amounts only (shares without parts: the matrix of a year of
    1 000 members then loads in a few hundred milliseconds); ``explain=(service code, member
    code)`` adds the explanation of that one line.
    """
    period = run.period
    refs = {
        mid: MemberRef(mid, code, name)
        for mid, code, name in session.execute(
            select(Member.id, Member.code, Member.name)
            .where(Member.id.in_(select(AllocationLine.member_id)
                                 .where(AllocationLine.run_id == run.id)))
        )
    }
    shares: dict[int, list[MemberShare]] = defaultdict(list)
    if explain is True:
        for service_id, explanation in session.execute(
            select(AllocationLine.service_id, AllocationLine.explanation)
            .where(AllocationLine.run_id == run.id)
        ):
            shares[service_id].append(MemberShare.from_dict(explanation))
    else:
        wanted = explain if isinstance(explain, tuple) else None
        codes = {s.id: s.code for s in session.scalars(select(Service))}
        for line_id, service_id, member_id, amount, adjustment, exact in session.execute(
            select(AllocationLine.id, AllocationLine.service_id, AllocationLine.member_id,
                   AllocationLine.amount, AllocationLine.adjustment, AllocationLine.exact)
            .where(AllocationLine.run_id == run.id)
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
    result = PeriodAllocation(
        period_id=period.id, period_code=period.code, period_label=period.label,
        start=period.start, end=period.end, year=run.inputs.get("year", period.start.year),
        members=dict(sorted(refs.items(), key=lambda kv: kv[1].code)), services=[],
        warnings=list(run.inputs.get("warnings", [])), only=run.inputs.get("service"),
    )
    services = {
        s.id: s for s in session.scalars(
            select(Service).where(Service.id.in_([rs.service_id for rs in run.services]))
        )
    }
    oh = run.inputs.get("overheads")
    if oh:
        service = session.scalars(select(Service).where(Service.code == oh["service"])).one()
        result.overheads = Overheads(
            ServiceRef(service.id, service.code, service.name, oh["by"]),
            Decimal(oh["costs"]), Decimal(oh["subsidies"]),
            {c: ServiceShare.from_dict(d) for c, d in oh["shares"].items()},
        )
    for rs in sorted(run.services, key=lambda rs: services[rs.service_id].code):
        service = services[rs.service_id]
        inputs = rs.inputs
        key = AllocationKey(
            id=rs.key_id, service_id=rs.service_id, text=rs.key_text,
            valid_from=date.fromisoformat(inputs["key_valid_from"]),
        )
        allocation = Allocation(
            pool=rs.pool, key=parse_key(rs.key_text), period_days=inputs["period_days"],
            common_minutes=inputs["common_minutes"], common_units=Decimal(inputs["common_units"]),
            shares=tuple(sorted(shares[rs.service_id], key=lambda s: s.code)),
            excluded=tuple(inputs.get("excluded", ())),
        )
        result.services.append(ServiceAllocation(
            ServiceRef(service.id, service.code, service.name, service.overheads_by),
            rs.costs, rs.subsidies, rs.overheads,
            ServiceShare.from_dict(inputs["overheads"]) if inputs.get("overheads") else None,
            key, allocation, None, dict(inputs),
        ))
    return result


def line_share(line: AllocationLine) -> MemberShare:
    """A stored line's explanation as the engine's ``MemberShare`` (exact values included),
    e.g. for ``describe_key_fr(parse_key(run_service.key_text), line_share(line))``."""
    return MemberShare.from_dict(line.explanation)
