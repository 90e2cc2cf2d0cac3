"""Computing a period's allocation from the database (nothing written): pools by service,
step-down of the overheads, the key in force, the engine — and replaying a stored service."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.engine import (
    ZERO,
    Allocation,
    MemberBasis,
    ServiceBasis,
    ServiceShare,
    allocate,
    step_down,
)
from accounting.allocation.errors import AllocationError, NoKey
from accounting.allocation.keys import BasisName, parse_key
from accounting.allocation.models import AllocationKey
from accounting.allocation.runs.key_versions import key_for
from accounting.allocation.runs.results import (
    MemberRef,
    Overheads,
    PeriodAllocation,
    ServiceAllocation,
    ServiceRef,
    WorkTotals,
)
from accounting.collector import collector_paused
from accounting.costs import CostKind, totals_by_service
from accounting.org import Member, MemberFigures, Service
from accounting.periods import Period
from accounting.wording import plural


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
    with collector_paused():
        return _compute(session, period, work, service_code)


def _compute(
    session: Session, period: Period, work: WorkTotals, service_code: str | None
) -> PeriodAllocation:
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
            f"{plural(work.unapproved, 'saisie')} de temps de la période "
            + ("n'est pas encore validée : elle est comptée." if work.unapproved < 2
               else "ne sont pas encore validées : elles sont comptées.")
        )
    overheads = _overheads_service(services, service_code, result)
    direct = [s for s in services if not s.overheads_by]
    if overheads is not None:
        _step_down(result, overheads, direct, costs, subsidies, work)

    versions: dict[int, list[AllocationKey]] = defaultdict(list)
    for key in session.scalars(select(AllocationKey).order_by(AllocationKey.valid_from)):
        versions[key.service_id].append(key)

    work_of = _ByService(work)
    for service in direct:
        if service_code is not None and service.code != service_code:
            continue
        item = ServiceAllocation(
            service, costs.get(service.id, ZERO), subsidies.get(service.id, ZERO)
        )
        if result.overheads is not None and service.code in result.overheads.shares:
            item.overheads_share = result.overheads.shares[service.code]
            item.overheads = item.overheads_share.amount
        _member_bases(item, members, bases, work_of)
        try:
            item.key = key_for(versions[service.id], service, start, end)
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


def _overheads_service(
    services: list[ServiceRef], service_code: str | None, result: PeriodAllocation
) -> ServiceRef | None:
    """The overheads service (an error on ``result`` when there are several); refuses a
    ``service_code`` that is unknown or is the overheads service itself."""
    overheads_services = [s for s in services if s.overheads_by]
    if len(overheads_services) > 1:
        names = ", ".join(s.name for s in overheads_services)
        result.errors.append(f"Un seul service de frais de structure est possible ({names}).")
        overheads_services = overheads_services[:1]
    if service_code is not None:
        if service_code not in {s.code for s in services}:
            raise AllocationError(f"Service inconnu : {service_code}.")
        if overheads_services and overheads_services[0].code == service_code:
            raise AllocationError(
                f"{overheads_services[0].name} est réparti sur les autres services, pas sur "
                "les adhérents : choisissez un autre service."
            )
    return overheads_services[0] if overheads_services else None


def _step_down(
    result: PeriodAllocation, oh: ServiceRef, direct: list[ServiceRef],
    costs: Mapping[int, Decimal], subsidies: Mapping[int, Decimal], work: WorkTotals,
) -> None:
    """Step the overheads' pool down across the ``direct`` services (a refusal is kept on
    ``result``: the other services are still shown, without overheads)."""
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


class _ByService:
    """The work totals indexed by service then member, built once per period: reading them by
    ``(service, member)`` keys built for every member of every service cost more than the
    allocation itself."""

    def __init__(self, work: WorkTotals) -> None:
        self.minutes: dict[int, dict[int | None, int]] = defaultdict(dict)
        self.units: dict[int, dict[int | None, Decimal]] = defaultdict(dict)
        for (sid, mid), minutes in work.minutes.items():
            self.minutes[sid][mid] = minutes
        for (sid, mid), units in work.units.items():
            self.units[sid][mid] = units


def _member_bases(
    item: ServiceAllocation,
    members: Mapping[int, MemberRef],
    bases: Mapping[int, tuple[int, Decimal | None, Decimal | None]],
    work: _ByService,
) -> None:
    """Fill the engine's inputs of one service (every member, active or not)."""
    sid = item.service.id
    minutes = work.minutes.get(sid, {})
    units = work.units.get(sid, {})
    item.bases = tuple(
        MemberBasis(
            ref.code, *bases[member_id], minutes.get(member_id, 0), units.get(member_id, ZERO)
        )
        for member_id, ref in members.items()
    )
    item.common_minutes = minutes.get(None, 0)
    item.common_units = units.get(None, ZERO)


def _allocate_service(item: ServiceAllocation, result: PeriodAllocation) -> None:
    assert item.key is not None
    # The figures themselves, not ``item``: a partial holding its own item would be a cycle,
    # kept (with its 1 000 bases) until the garbage collector runs.
    item.inputs_of = partial(
        _inputs, item.key.text, item.key.valid_from, item.bases, item.common_minutes,
        item.common_units, item.overheads_share, result.days, result.year,
    )
    try:
        item.allocation = allocate(
            item.pool, item.key.key, item.bases, result.days, item.common_minutes,
            item.common_units, year=result.year,
        )
    except AllocationError as error:
        item.error = error
        result.errors.append(f"{item.service.name} : {error}")


def _inputs(
    key: str, valid_from: date, bases: tuple[MemberBasis, ...], common_minutes: int,
    common_units: Decimal, overheads: ServiceShare | None, days: int, year: int,
) -> dict[str, Any]:
    """What is stored with a run to replay the service (built when first read)."""
    return {
        "key": key,
        "key_valid_from": valid_from.isoformat(),
        "period_days": days,
        "year": year,
        "common_minutes": common_minutes,
        "common_units": str(common_units),
        #: code, active days, revenue, headcount, minutes, units (members active or named)
        "members": [
            [m.code, m.active_days, _str(m.revenue), _str(m.headcount), m.minutes, str(m.units)]
            for m in bases
            if m.active_days or m.minutes or m.units
        ],
        "overheads": overheads.to_dict() if overheads else None,
    }


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
