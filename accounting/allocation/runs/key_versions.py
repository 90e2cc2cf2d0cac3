"""The versions of a service's key: which one is in force over a period, and recording a new
one (never over a closed or approved period)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.errors import AllocationError, InvalidFixedPercentages, NoKey
from accounting.allocation.keys import BasisName, Key, format_key, parse_key
from accounting.allocation.models import (
    AllocationKey,
    AllocationRun,
    AllocationRunService,
    RunStatus,
)
from accounting.allocation.runs.results import ServiceRef
from accounting.org import Member, Service
from accounting.periods import Period, PeriodStatus


def keys_of_service(session: Session, service_id: int) -> list[AllocationKey]:
    """Every version of a service's key, oldest first."""
    return list(
        session.scalars(
            select(AllocationKey)
            .where(AllocationKey.service_id == service_id)
            .order_by(AllocationKey.valid_from)
        )
    )


def key_for(
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
    return key_for(keys_of_service(session, service.id), ref, start, end)


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


# --------------------------------------------------------------------------- correcting
# A version not used by an approved run can be corrected (``set_key`` on its date) or deleted;
# one used by an approved run cannot (DESIGN §4). Deleting is audited by the session hook.


def approved_run_using(session: Session, key: AllocationKey) -> AllocationRun | None:
    """An approved run of the key's service over a day the version was in force."""
    following = session.scalars(
        select(AllocationKey.valid_from)
        .where(AllocationKey.service_id == key.service_id,
               AllocationKey.valid_from > key.valid_from)
        .order_by(AllocationKey.valid_from).limit(1)
    ).first()  # fmt: skip
    stmt = (
        select(AllocationRun)
        .join(AllocationRunService, AllocationRunService.run_id == AllocationRun.id)
        .join(Period, Period.id == AllocationRun.period_id)
        .where(
            AllocationRun.status == RunStatus.APPROVED.value,
            AllocationRunService.service_id == key.service_id,
            Period.end >= key.valid_from,
        )
    )
    if following is not None:
        stmt = stmt.where(Period.start <= following - timedelta(days=1))
    return session.scalars(stmt.limit(1)).first()


def delete_key(session: Session, key: AllocationKey) -> None:
    """Delete a key version no approved run used (audited)."""
    run = approved_run_using(session, key)
    if run is not None:
        raise AllocationError(
            f"La clé du {key.valid_from:%d/%m/%Y} a servi à la répartition approuvée n° {run.id} "
            f"({run.period.label}) : elle ne se supprime pas. Ajoutez une nouvelle version à "
            "partir d'une date ultérieure."
        )
    session.delete(key)
    session.flush()


def key_version(session: Session, service_id: int, valid_from: object) -> AllocationKey | None:
    return session.scalars(
        select(AllocationKey).where(
            AllocationKey.service_id == service_id, AllocationKey.valid_from == valid_from
        )
    ).one_or_none()
