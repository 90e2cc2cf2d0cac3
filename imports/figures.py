"""Importing the members' yearly figures (revenue, headcount, insertion workers, volunteers).

Design and invariants as :mod:`imports.members`: every row is checked first, one bad cell
refuses the file, importing the same file twice changes nothing. A row is keyed by
(member code, year). An empty cell stores NULL: a figure that is not known stays missing and is
never turned into a zero; a column absent from the file leaves that figure untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.db import transaction_lock
from accounting.org import Member, MemberFigures
from imports.errors import ErrorList
from imports.members import (
    ImportResult,
    columns_of,
    normalize_code,
    note_duplicate,
    parse_cells,
)
from imports.parsing import parse_decimal, parse_int
from imports.tabular import Table

FIGURE_COLUMNS: dict[str, list[str]] = {
    "member": ["Adhérent", "Code adhérent", "Code"],
    "year": ["Année", "Exercice"],
    "revenue": ["Chiffre d'affaires", "CA"],
    "headcount": ["Effectif", "ETP"],
    "insertion_workers": ["Salariés en insertion"],
    "volunteers": ["Bénévoles"],
}
REQUIRED_COLUMNS = frozenset({"member", "year"})
#: The figures proper (the columns of MemberFigures an import may set).
FIGURE_FIELDS = ("revenue", "headcount", "insertion_workers", "volunteers")
FIGURE_LABELS_FR = {
    "revenue": "Chiffre d'affaires",
    "headcount": "Effectif (ETP)",
    "insertion_workers": "Salariés en insertion",
    "volunteers": "Bénévoles",
}
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_REVENUE = Decimal("999999999999.99")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_year(value: object) -> int:
    return parse_int(value, minimum=MIN_YEAR, maximum=MAX_YEAR)


def parse_figure_value(field: str, value: object) -> Any:
    """The value to store in ``MemberFigures.<field>``; blank -> None (missing, not zero).

    Raises :class:`~imports.errors.InvalidValue` with a French message.
    """
    if field == "year":
        return parse_year(value)
    if _blank(value):
        return None
    if field == "revenue":
        return parse_decimal(
            value, max_places=2, allow_negative=False, maximum=MAX_REVENUE
        ).quantize(Decimal("0.01"))
    if field == "headcount":
        return parse_decimal(
            value, max_places=3, allow_negative=False, maximum=Decimal(10**9)
        ).quantize(Decimal("0.001"))
    if field in ("insertion_workers", "volunteers"):
        return parse_int(value, minimum=0, maximum=10**9)
    raise KeyError(field)


@dataclass(frozen=True, slots=True)
class FigureRow:
    line: int
    member_code: str
    year: int
    values: dict[str, Any]


def check_figures(session: Session, table: Table) -> list[FigureRow]:
    """Every row parsed and checked (members must exist); raises ImportRefused with all errors."""
    columns = columns_of(table, FIGURE_COLUMNS, REQUIRED_COLUMNS)
    errors = ErrorList()
    parsed_rows: list[tuple[int, str | None, int | None, dict[str, Any]]] = []
    for row in table:
        code = errors.parse(
            row.line, columns.label("member"), normalize_code, row[columns["member"]]
        )
        year = errors.parse(row.line, columns.label("year"), parse_year, row[columns["year"]])
        values = parse_cells(errors, row, columns, FIGURE_FIELDS, parse_figure_value)
        parsed_rows.append((row.line, code, year, values))

    known = members_by_code(session, {code for _, code, _, _ in parsed_rows if code})
    seen: dict[tuple[str, int], int] = {}
    rows: list[FigureRow] = []
    for line, code, year, values in parsed_rows:
        if code and code not in known:
            errors.add(line, columns.label("member"), f"Adhérent « {code} » inconnu.")
        if code and year is not None:
            label = columns.label("year")
            note_duplicate(seen, (code, year), line, label, f"Chiffres {year} de {code}", errors)
            rows.append(FigureRow(line, code, year, values))
    errors.raise_if_any()
    return rows


def members_by_code(session: Session, codes: set[str]) -> dict[str, int]:
    """Member id per code, for the codes that exist."""
    found: dict[str, int] = {}
    wanted = sorted(codes)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Member.code, Member.id).where(Member.code.in_(chunk))
        found.update((code, member_id) for code, member_id in session.execute(query))
    return found


def apply_figure_values(
    session: Session,
    figures: MemberFigures | None,
    member_id: int,
    year: int,
    values: Mapping[str, Any],
) -> str:
    """Create the (member, year) figures or set those that differ; never flushes.

    Returns ``"created"``, ``"updated"`` or ``"unchanged"``.
    """
    if figures is None:
        session.add(
            MemberFigures(
                member_id=member_id,
                year=year,
                **{k: v for k, v in values.items() if k in FIGURE_FIELDS},
            )
        )
        return "created"
    changed = False
    for field, value in values.items():
        if field in FIGURE_FIELDS and getattr(figures, field) != value:
            setattr(figures, field, value)
            changed = True
    return "updated" if changed else "unchanged"


def existing_figures(
    session: Session, keys: list[tuple[int, int]]
) -> dict[tuple[int, int], MemberFigures]:
    """The stored figures of the given (member id, year) pairs."""
    found: dict[tuple[int, int], MemberFigures] = {}
    for start in range(0, len(keys), 300):
        chunk = keys[start : start + 300]
        query = select(MemberFigures).where(
            tuple_(MemberFigures.member_id, MemberFigures.year).in_(chunk)
        )
        for figures in session.scalars(query):
            found[(figures.member_id, figures.year)] = figures
    return found


def import_figures(session: Session, table: Table) -> ImportResult:
    """Apply a figures file (all-or-nothing); flushes, the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:figures")
    rows = check_figures(session, table)
    ids = members_by_code(session, {r.member_code for r in rows})
    existing = existing_figures(session, [(ids[r.member_code], r.year) for r in rows])
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        member_id = ids[row.member_code]
        outcome = apply_figure_values(
            session, existing.get((member_id, row.year)), member_id, row.year, row.values
        )
        counts[outcome] += 1
    result = ImportResult(**counts)
    if result.changed:
        session.flush()
        record_audit(session, "import", "member_figures", after={"file": table.filename, **counts})
    session.flush()
    return result
