"""A stored run's member × service matrix one page at a time, read in SQL (issue 16).

Why: a run of a quarter at 1 000 members is ~18 300 lines; the page shows 50 members. Reading
every line back as the engine's shares (a ``Fraction`` each) cost the run page 0.75 s before
anything was shown. Here the page's members are chosen in SQL (by code, ``LIMIT``/``OFFSET``),
only their lines are read, and the totals the page prints — the member count, the members with
a negative total — are aggregates over every line of the run, from the index
``ix_allocation_lines_run_member`` (run, member, service, amount) alone. A service's total is
its stored pool: the engine's shares add up to the pool exactly (largest remainders), so the
SUM of its lines (12 ms a view at 1 000 members) would say the same.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.allocation.engine import ZERO
from accounting.allocation.models import AllocationLine, AllocationRun
from accounting.org import Member, Service


@dataclass(frozen=True)
class MatrixPage:
    """One page of a run's matrix and the totals over the whole run."""

    #: {"code", "name", "amounts": service code → amount, "total"} per member of the page
    rows: list[dict[str, Any]]
    members_count: int
    page: int
    pages: int


def _money(value: Any) -> Decimal:
    """A SUM as the database returns it (SQLite: a float or an int) as cents."""
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))


def run_matrix_page(
    session: Session,
    run: AllocationRun,
    page: int,
    per_page: int,
    member_code: str | None = None,
) -> MatrixPage:
    """Page ``page`` (from 1, clamped to the last) of ``run``'s members by code, each with its
    amount per service and total; ``member_code``: that member's row only (a member
    accountant's view)."""
    of_run = AllocationLine.run_id == run.id
    has_line = (
        select(AllocationLine.id).where(of_run, AllocationLine.member_id == Member.id).exists()
    )  # by member code, a lookup in (run, member) each: no sort of the run's 18 000 lines
    members = select(Member.id, Member.code, Member.name).where(has_line)
    if member_code is not None:
        members = members.where(Member.code == member_code)
        count = session.scalar(select(func.count()).select_from(members.subquery())) or 0
    else:
        count = (
            session.scalar(
                select(func.count(func.distinct(AllocationLine.member_id))).where(of_run)
            )
            or 0
        )
    pages = max(1, math.ceil(count / per_page))
    page = min(max(1, page), pages)
    shown = session.execute(
        members.order_by(Member.code).offset((page - 1) * per_page).limit(per_page)
    ).all()
    codes = dict(session.execute(select(Service.id, Service.code)).all())
    amounts: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for member_id, service_id, amount in session.execute(
        select(AllocationLine.member_id, AllocationLine.service_id, AllocationLine.amount).where(
            of_run, AllocationLine.member_id.in_([m.id for m in shown])
        )
    ):
        amounts[member_id][codes[service_id]] = amount
    rows = [
        {
            "code": code,
            "name": name,
            "amounts": amounts[member_id],
            "total": sum(amounts[member_id].values(), ZERO),
        }
        for member_id, code, name in shown
    ]
    return MatrixPage(rows, count, page, pages)


def run_negative_totals(
    session: Session, run: AllocationRun, exclude: str | None = None
) -> list[tuple[str, Decimal]]:
    """(member code, total) of the run's members whose total is negative (they will receive a
    credit note), by code: ``negative_totals`` of the run, as one GROUP BY."""
    total = func.sum(AllocationLine.amount)
    rows = session.execute(
        select(Member.code, total)
        .join(Member, Member.id == AllocationLine.member_id)
        .where(AllocationLine.run_id == run.id)
        .group_by(Member.code)
        .having(total < 0)
        .order_by(Member.code)
    )
    return [(code, _money(value)) for code, value in rows if code != exclude]
