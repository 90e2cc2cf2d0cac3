"""Digests of a period's raw allocation inputs, read in SQL: has anything changed since a run?

Why: the run page warns when the data changed since the run was computed (« les charges et les
temps ont changé depuis le calcul »). It used to compute the whole period again and compare
the engine's fingerprints (``accounting.allocation.fingerprint``): 0.6–2 s at 1 000 members.
A run now keeps, per kind of input, a SHA-256 of what the engine reads from the database
(``AllocationRun.input_digests``, written by :func:`store_with_digests`); the page takes the
same digests of today's data — a few aggregate queries; the work entries' one, a pass over the
covering index that also counts the entries not validated, is reused by the process while
nothing is written (``app.allocation.cache``) — and names the kinds that differ.

What each digest covers (any change there changes the allocation or its warnings):

- ``work``: over the period's entries, their count, the count approved, Σ minutes weighed by
  member and service, Σ quantities weighed by unit type and member (an edit keeping every sum
  is possible — moving an entry to another day of the period, or two edits that cancel — and
  changes an allocation only in the first case with a key changing within the period; the
  full check, the period computed again, stays one click away: « Vérifier les données
  maintenant »); the unit types' weights;
- ``costs`` / ``subsidies``: Σ amount per service and day of the period;
- ``figures``: the members (code, joining and leaving dates) and the year's figures;
- ``keys``: every key version up to the period's end;
- ``services``: the services (active, overheads), the services whose funds are called for the
  year, and those already shared by approved months inside a year.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.orm import Session

from accounting.allocation.fingerprint import KINDS_FR
from accounting.allocation.models import AllocationKey, AllocationRun
from accounting.allocation.runs import PeriodAllocation, store_run
from accounting.cost_models import Cost, Subsidy
from accounting.invoicing.differences import called_services
from accounting.org import Service
from accounting.periods import Period
from timesheets.models import EntryStatus, UnitType

#: One pass over the period's work entries, on SQLite naming the covering index (day first;
#: every column read is in it): with ANALYZE statistics the planner may otherwise take a
#: narrower index and read the table per entry. One row, no GROUP BY (a sort of every entry):
#: each sum weighs the minutes or quantities by who and what they are for, so moving work
#: between members, services or unit types changes it. 30 ms of CPU for a quarter at 300
#: members, ~0.1 s at 1 000: the digests are cached per process (``app.allocation.cache``).
_WORK_SQL = (
    "SELECT COUNT(*), SUM(CASE WHEN status = :approved THEN 1 ELSE 0 END), "
    "SUM(minutes * (1 + COALESCE(member_id, 0) + 1000 * service_id)), "
    "SUM(COALESCE(quantity, 0) * (1 + COALESCE(unit_type_id, 0) "
    "+ 1000 * COALESCE(member_id, 0))) "
    "FROM work_entries{hint} WHERE day >= :start AND day <= :end"
)


@dataclass(frozen=True)
class Digests:
    """The digests of a period's inputs, and the count of its entries not approved (read by
    the same pass over the work; the run page shows it)."""

    digests: dict[str, str]
    unvalidated: int


def _sha(value: Any) -> str:
    payload = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def work_digest(session: Session, period: Period) -> tuple[str, int]:
    """The digest of the period's work (entries and unit weights), and its entries not
    approved."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    query = text(
        _WORK_SQL.format(hint=" INDEXED BY ix_work_entries_day" if sqlite else "")
    ).bindparams(
        bindparam("start", period.start, type_=Date),
        bindparam("end", period.end, type_=Date),
        approved=EntryStatus.APPROVED.value,
    )
    count, approved, minutes, units = session.execute(query).one()
    weights = _rows(session, select(UnitType.id, UnitType.weight).order_by(UnitType.id))
    digest = _sha([[str(v) for v in (count, approved, minutes, units)], weights])
    return digest, int(count or 0) - int(approved or 0)


def _amounts(session: Session, model: Any, period: Period) -> list[list[str]]:
    return [
        [str(v) for v in row]
        for row in session.execute(
            select(model.service_id, model.day, func.sum(model.amount))
            .where(model.day >= period.start, model.day <= period.end)
            .group_by(model.service_id, model.day)
            .order_by(model.service_id, model.day)
        )
    ]


def _rows(session: Session, query: Any) -> list[list[str]]:
    return [[str(v) for v in row] for row in session.execute(query)]


def period_digests(
    session: Session, period: Period, work: tuple[str, int] | None = None
) -> Digests:
    """The digests of ``period``'s inputs as the database holds them now (kind → SHA-256);
    ``work``: :func:`work_digest`'s result when the caller has it (cached)."""
    from app.allocation.services import shared_within  # services imports this module

    work_sha, unvalidated = work if work is not None else work_digest(session, period)
    # plain SQL, no type conversion (1 000 members' dates and decimals: 10 ms): the digests
    # are compared with those taken on the same database, as its driver returns the values
    members = _rows(session, text("SELECT id, code, joined_on, left_on FROM members ORDER BY id"))
    figures = _rows(
        session,
        text(
            "SELECT member_id, revenue, headcount FROM member_figures WHERE year = :year "
            "ORDER BY member_id"
        ).bindparams(year=period.start.year),
    )
    keys = _rows(
        session,
        select(
            AllocationKey.id, AllocationKey.service_id, AllocationKey.text, AllocationKey.valid_from
        )
        .where(AllocationKey.valid_from <= period.end)
        .order_by(AllocationKey.id),
    )
    services = _rows(
        session,
        select(Service.id, Service.code, Service.active, Service.overheads_by).order_by(Service.id),
    )
    digests = {
        "costs": _sha(_amounts(session, Cost, period)),
        "subsidies": _sha(_amounts(session, Subsidy, period)),
        "work": work_sha,
        "figures": _sha([members, figures]),
        "keys": _sha(keys),
        "services": _sha(
            [
                services,
                sorted(called_services(session, period)),
                sorted(shared_within(session, period)),
            ]
        ),
    }
    return Digests(digests, unvalidated)


def changed_kinds(stored: dict[str, str], now: dict[str, str]) -> list[str]:
    """The French names of the kinds of input whose digest differs."""
    labels = {**KINDS_FR, "services": "les services et appels de fonds de l'exercice"}
    return [label for kind, label in labels.items() if stored.get(kind) != now.get(kind)]


def store_with_digests(
    session: Session,
    period: Period,
    result: PeriodAllocation,
    *,
    user_id: int | None = None,
    note: str = "",
) -> AllocationRun:
    """``store_run`` plus the digests of the inputs it was computed from (same transaction:
    what the computation just read)."""
    return store_run(
        session,
        period,
        result,
        user_id=user_id,
        note=note,
        input_digests=period_digests(session, period).digests,
    )
