"""The admin's board: period states, missing member figures, keys in force, recent audit
events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from accounting.allocation.keys import BasisName, describe_key_fr, parse_key
from accounting.allocation.models import AllocationKey
from accounting.audit import AuditEvent
from accounting.org import Member, MemberFigures, Service
from accounting.periods import Period, PeriodStatus
from app.main.dashboards.common import LIST_LIMIT, OVERHEADS_WORDS, month_of


@dataclass(frozen=True)
class KeyInForce:
    service_code: str
    service_name: str
    #: None for the overheads service, which has no key of its own.
    valid_from: date | None
    text: str
    description: str
    bases: frozenset[str]


@dataclass(frozen=True)
class MissingFigures:
    code: str
    name: str
    revenue: bool
    headcount: bool


@dataclass
class AdminBoard:
    today: date
    year: int
    periods: list[Period]
    open_past_periods: int
    keys: list[KeyInForce]
    services_without_key: list[str]
    missing: list[MissingFigures]
    missing_count: int
    figures_needed: frozenset[str]
    events: list[AuditEvent]


def admin_board(db: Session, today: date) -> AdminBoard:
    """Recent periods and their state, the keys in force today, the members whose figures of
    the year are missing (the ones a revenue or headcount key would need), the audit log."""
    periods = list(db.scalars(select(Period).order_by(Period.start.desc(), Period.kind).limit(12)))
    open_past = db.scalar(
        select(func.count(Period.id)).where(
            Period.status == PeriodStatus.OPEN.value, Period.end < month_of(today).start
        )
    )
    keys, without, needed = _keys_in_force(db, today)
    missing, missing_count = _missing_figures(db, today)
    events = list(
        db.scalars(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                   .limit(LIST_LIMIT))
    )
    return AdminBoard(
        today=today,
        year=today.year,
        periods=periods,
        open_past_periods=int(open_past or 0),
        keys=keys,
        services_without_key=without,
        missing=missing,
        missing_count=missing_count,
        figures_needed=frozenset(needed),
        events=events,
    )


def _keys_in_force(db: Session, today: date) -> tuple[list[KeyInForce], list[str], set[str]]:
    """The key in force today of each active service, the services with none, and the member
    figures (revenue, headcount) those keys need."""
    latest = (
        select(AllocationKey.service_id, func.max(AllocationKey.valid_from).label("valid_from"))
        .where(AllocationKey.valid_from <= today)
        .group_by(AllocationKey.service_id)
        .subquery()
    )
    key_rows = db.execute(
        select(Service.code, Service.name, Service.overheads_by, AllocationKey.valid_from,
               AllocationKey.text)
        .select_from(Service)
        .outerjoin(latest, latest.c.service_id == Service.id)
        .outerjoin(
            AllocationKey,
            and_(
                AllocationKey.service_id == Service.id,
                AllocationKey.valid_from == latest.c.valid_from,
            ),
        )
        .where(Service.active.is_(True))
        .order_by(Service.code)
    ).all()
    keys: list[KeyInForce] = []
    without: list[str] = []
    needed: set[str] = set()
    for code, name, overheads_by, valid_from, text in key_rows:
        if overheads_by is not None:  # stepped down onto the other services: needs no key
            keys.append(KeyInForce(code, name, None, "", OVERHEADS_WORDS[overheads_by],
                                   frozenset()))
            continue
        if text is None:
            without.append(name)
            continue
        try:
            key = parse_key(text)
            description = describe_key_fr(key)
            bases = {part.basis.name.value for part in key.parts}
            if key.common_by is not None:
                bases.add(key.common_by.name.value)
        except ValueError:  # a stored key is canonical; never let one break the home page
            description, bases = text, set()
        needed |= bases & {BasisName.REVENUE.value, BasisName.HEADCOUNT.value}
        keys.append(KeyInForce(code, name, valid_from, text, description, frozenset(bases)))
    return keys, without, needed


def _missing_figures(db: Session, today: date) -> tuple[list[MissingFigures], int]:
    """The first active members lacking this year's revenue or headcount, and their count."""
    values = {"year": today.year, "today": today, "limit": LIST_LIMIT * 3}
    missing_rows = db.execute(_missing_statements()[0], values).all()
    missing_count = db.scalar(_missing_statements()[1], values) or 0
    return (
        [MissingFigures(c, n, bool(r), bool(h)) for c, n, r, h in missing_rows],
        int(missing_count),
    )


@cache
def _missing_statements() -> tuple[Select[Any], Select[Any]]:
    """The first members lacking figures, and their count: built once, the year, the day and
    the limit bound (the admin's home page asks for them on every view)."""
    figures = aliased(MemberFigures)
    lacking = or_(figures.id.is_(None), figures.revenue.is_(None), figures.headcount.is_(None))
    today = bindparam("today", type_=Date)
    missing_query = (
        select(Member.code, Member.name, figures.revenue.is_(None) | figures.id.is_(None),
               figures.headcount.is_(None) | figures.id.is_(None))
        .outerjoin(figures, and_(figures.member_id == Member.id,
                                 figures.year == bindparam("year")))
        .where(Member.joined_on <= today, or_(Member.left_on.is_(None), Member.left_on >= today),
               lacking)
    )
    return (
        missing_query.order_by(Member.code).limit(bindparam("limit")),
        select(func.count()).select_from(missing_query.subquery()),
    )
