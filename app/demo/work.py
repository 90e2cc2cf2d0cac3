"""Building blocks shared by the demo cluster and the large generated datasets: the French
working calendar, the bulk writing of work entries, and idempotency by ``import_key``.

Generated rows carry ``import_key`` = ``demo-<year>-<n>`` (work entries) or
``demo-cost-<year>-<n>`` (costs, subsidies): a year already generated is never generated again,
so running the demo twice duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from app.demo.bulk import bulk_insert
from timesheets.models import WorkEntry

WORK_COLUMNS = (
    "staff_id",
    "day",
    "minutes",
    "member_id",
    "service_id",
    "activity_id",
    "unit_type_id",
    "quantity",
    "note",
    "status",
    "import_key",
    "created_by_id",
    "updated_by_id",
)


def easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def french_holidays(year: int) -> set[date]:
    """The eleven public holidays of metropolitan France."""
    sunday = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    return {date(year, m, d) for m, d in fixed} | {
        sunday + timedelta(days=1),  # Easter Monday
        sunday + timedelta(days=39),  # Ascension
        sunday + timedelta(days=50),  # Whit Monday
    }


def working_days(year: int) -> list[date]:
    """Monday to Friday, public holidays excluded."""
    holidays = french_holidays(year)
    day, end = date(year, 1, 1), date(year, 12, 31)
    days = []
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += timedelta(days=1)
    return days


def key_prefix(kind: str, year: int) -> str:
    return f"demo-{year}-" if kind == "work" else f"demo-{kind}-{year}-"


def generated_count(session: Session, table: Table, prefix: str) -> int:
    """Rows of ``table`` whose import_key starts with ``prefix`` (an index range scan)."""
    column = table.c.import_key
    return (
        session.scalar(select(func.count()).where(column >= prefix, column < prefix + "\uffff"))
        or 0
    )


def year_generated(session: Session, year: int) -> bool:
    return generated_count(session, WorkEntry.__table__, key_prefix("work", year)) > 0


def insert_work_entries(
    session: Session,
    year: int,
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
    large: bool = False,
) -> int:
    """Bulk-insert generated entries (tuples in :data:`WORK_COLUMNS` order) and write one
    summary audit event; returns how many were written."""
    session.flush()
    written = bulk_insert(
        session.connection(),
        WorkEntry.__table__,
        WORK_COLUMNS,
        rows,
        prepared=prepared,
        large=large,
    )
    record_audit(
        session,
        "generate",
        "work_entries",
        object_id=year,
        after={"count": written, **(detail or {})},
    )
    session.flush()
    return written
