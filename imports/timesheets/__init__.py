"""Importing work entries: our own template (CSV or XLSX, English or French headers) and Kimai's
timesheet exports (CSV and XLSX, every version since 1.x), with a saved mapping of Kimai's
customers, projects, activities and users.

Design: :func:`analyse` reads the file (:mod:`imports.tabular`), recognises the format by its
header (:mod:`imports.timesheets.registry`, one module per format: :mod:`.template`,
:mod:`.kimai`), parses every cell, resolves every reference against references loaded once
(:mod:`.references`), applies the rules of the timesheets domain (:mod:`.rules`: closed periods,
member's dates, member accountant's scope, 24 h a day refused and 12 h warned, counting what the
database already holds) and returns an :class:`ImportReport` holding every error and warning —
nothing is written. :func:`import_file` runs it and, only when there is no error, inserts the new
entries in one bulk statement and writes one audit event. The caller commits.

Idempotency: each line gets a fingerprint (``import_key``) from its resolved content and its
rank among identical lines of the file; lines whose fingerprint is already stored are skipped,
so importing the same file twice adds nothing, and an export that overlaps an earlier one adds
only the new lines.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Dialect, bindparam, select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.collector import collector_paused
from accounting.db import transaction_lock, utcnow
from accounting.org import User
from imports.errors import ImportRefused, RowError
from imports.tabular import DEFAULT_MAX_BYTES, Table, read_table
from imports.timesheets.kimai import KIMAI_COLUMNS, save_mapping
from imports.timesheets.lines import Lines, lines_text
from imports.timesheets.references import References
from imports.timesheets.registry import FORMATS, detect_format, format_of
from imports.timesheets.report import (
    ACTIVITY_SEPARATOR,
    KIND_LABELS,
    Candidate,
    ImportReport,
    Unmapped,
)
from imports.timesheets.rules import check_rules
from imports.timesheets.template import (
    TEMPLATE_COLUMNS,
    TEMPLATE_HEADERS_EN,
    TEMPLATE_HEADERS_FR,
    template_csv,
    template_xlsx,
)
from timesheets.models import EntryStatus, WorkEntry

KIMAI = "kimai"
TEMPLATE = "template"

__all__ = [
    "ACTIVITY_SEPARATOR",
    "FORMATS",
    "KIMAI",
    "KIMAI_COLUMNS",
    "MAP_HINT",
    "TEMPLATE",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_HEADERS_EN",
    "TEMPLATE_HEADERS_FR",
    "Candidate",
    "ImportReport",
    "Unmapped",
    "analyse",
    "detect_format",
    "entry_rows",
    "import_file",
    "save_mapping",
    "template_csv",
    "template_xlsx",
]


#: Where the screen tells the user to map an unknown name (``{name}``: the name).
MAP_HINT = "associez-le ci-dessous ou dans l'écran d'import"

#: Fingerprints looked up per query (well under SQLite's and PostgreSQL's parameter limits).
_KEYS_PER_QUERY = 5000


def _fingerprints(session: Session, candidates: list[Candidate]) -> None:
    """Give each candidate its import key and mark those already stored.

    The key is the SHA-256 of the resolved content and the rank of the line among identical
    lines of the file; its text must never change (files imported earlier are recognised by
    it), so the f-string below reproduces the original ``"|".join(str(part) ...)`` exactly."""
    seen: dict[str, int] = defaultdict(int)
    sha256 = hashlib.sha256
    for c in candidates:
        content = (
            f"{c.staff_id}|{c.day.isoformat()}|{c.member_id}|{c.service_id}|{c.activity_id}|"
            f"{c.unit_type_id}|{c.quantity}|{c.minutes}|{c.note}"
        )
        rank = seen[content]
        seen[content] = rank + 1
        c.import_key = sha256(f"{content}#{rank}".encode()).hexdigest()
    keys = [c.import_key for c in candidates]
    stored: set[str] = set()
    query = select(WorkEntry.import_key).where(
        WorkEntry.import_key.in_(bindparam("keys", expanding=True))
    )
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        stored.update(session.scalars(query, {"keys": keys[start : start + _KEYS_PER_QUERY]}))
    if stored:
        for c in candidates:
            c.already = c.import_key in stored


# ---------------------------------------------------------------- entry points


def analyse(
    session: Session,
    actor: User,
    data: bytes | Table,
    filename: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hint: str = MAP_HINT,
) -> ImportReport:
    """Read and check a timesheet file; writes nothing. File-level problems (unreadable,
    empty, too large, wrong columns) become the report's errors too. ``hint`` ends the error
    of an unmapped name (where to map it: the import screen, or ``--map`` on the CLI)."""
    report = ImportReport(filename=filename)
    try:
        table = data if isinstance(data, Table) else read_table(data, filename, max_bytes=max_bytes)
        report.rows = len(table.rows)
        reader = format_of(table.header, table.header_line)
        report.format, report.format_label = reader.NAME, reader.LABEL
        refs = References(session)
        out = Lines()
        candidates = reader.parse(table, refs, out)
    except ImportRefused as refused:
        report.errors = list(refused.errors)
        return report
    for (kind, external), lines in out.unmapped.items():
        what, target = KIND_LABELS[kind]
        item = Unmapped(kind, external, lines)
        report.unmapped.append(item)
        out.error(
            lines[0],
            None,
            f"{what} « {item.shown} » non associé à {target} ({lines_text(lines)}) : "
            f"{hint.format(name=item.shown)}.",
        )
    _fingerprints(session, candidates)
    check_rules(session, actor, refs, candidates, out)
    report.candidates = candidates
    report.errors = sorted(out.errors, key=RowError.sort_key)
    report.warnings = sorted(out.warnings, key=RowError.sort_key)
    return report


def import_file(
    session: Session,
    actor: User,
    data: bytes | Table,
    filename: str,
    *,
    dry_run: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hint: str = MAP_HINT,
) -> ImportReport:
    """Check the file and, when it has no error and this is not a dry run, insert its new
    lines (one bulk insert, one audit event). Raises :class:`ImportRefused` with every error
    otherwise. Flushes; the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:work_entries")
    with collector_paused():  # 100 000 lines are that many objects (accounting.collector)
        report = analyse(session, actor, data, filename, max_bytes=max_bytes, hint=hint)
        return _write(session, actor, report, filename, dry_run)


def _write(
    session: Session, actor: User, report: ImportReport, filename: str, dry_run: bool
) -> ImportReport:
    """Insert the lines of a checked file unless it has errors or this is a dry run."""
    if report.errors:
        raise ImportRefused(report.errors)
    report.dry_run = dry_run
    if dry_run:
        return report
    new = report.new
    if new:
        _insert(session, actor, new)
    report.added = len(new)
    record_audit(
        session,
        "import",
        WorkEntry.__tablename__,
        None,
        after={
            "file": filename,
            "format": report.format,
            "added": report.added,
            "already_imported": report.already,
            "minutes": report.new_minutes,
        },
    )
    session.flush()
    return report


#: The columns an import writes, in the order of ``_insert``'s rows.
_INSERTED = (
    "staff_id", "day", "minutes", "member_id", "service_id", "activity_id", "unit_type_id",
    "quantity", "note", "status", "review_comment", "import_key", "created_at",
    "created_by_id", "updated_at", "updated_by_id",
)


def _insert(session: Session, actor: User, new: list[Candidate]) -> None:
    """The new lines as draft entries, in one ``executemany`` of the database driver, inside
    the session's transaction (see :func:`entry_rows` for why not through SQLAlchemy's
    ``insert``)."""
    dialect = session.get_bind().dialect
    sql, rows = entry_rows(dialect, actor.id, new)
    # One executemany on both databases: on PostgreSQL psycopg pipelines it, which measured
    # faster than statements of a thousand rows each (6.6 s against 3.5 s for 20 000 rows).
    session.connection().exec_driver_sql(sql, rows)


def entry_rows(dialect: Dialect, actor_id: int | None, new: list[Candidate]) -> tuple[str, list]:
    """The INSERT statement of the new entries and their rows, in the driver's own types
    (also what the benchmark's anchor inserts, ``bench/bench_timesheets.py``).

    Why not ``session.execute(insert(...), rows)``: SQLAlchemy then converts every value of
    every row through its column type (dates to text on SQLite, the timestamps, the scaled
    quantities) — 70 % of a 100 000-line import (issue 16). Here each column's conversion is
    asked of SQLAlchemy once (``bind_processor``, the same code) and applied only where a value
    needs it: the timestamps and the actor are the same for every row, a file has a few
    thousand distinct days, quantities are rare. What is traded: no ORM or Core insert events
    fire for these rows (none is listened to for work entries; the audit event is written
    once per import, as before), and the statement is written here from the table's columns
    rather than compiled by SQLAlchemy."""
    table = WorkEntry.__table__
    convert = {
        name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) or _same
        for name in ("day", "quantity", "created_at")
    }
    now = convert["created_at"](utcnow())
    draft = EntryStatus.DRAFT.value
    days: dict[date, Any] = {}
    day_of, quantity_of = convert["day"], convert["quantity"]
    rows = []
    for c in new:
        day = days.get(c.day)
        if day is None:
            day = days[c.day] = day_of(c.day)
        rows.append((
            c.staff_id, day, c.minutes, c.member_id, c.service_id, c.activity_id,
            c.unit_type_id, None if c.quantity is None else quantity_of(c.quantity), c.note,
            draft, "", c.import_key, now, actor_id, now, actor_id,
        ))  # fmt: skip
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in _INSERTED)}) "
        f"VALUES ({', '.join([mark] * len(_INSERTED))})"
    )
    return sql, rows


def _same(value: Any) -> Any:
    return value
