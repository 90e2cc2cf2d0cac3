"""Posting many entries at once (:func:`post_entries`): what
:func:`accounting.ledger.posting.post_entry` does for each — checked, numbered next in its
journal and year, audited, sealed — in a constant number of queries; used by the invoices
issued together and by a FEC import's costs.

The entries and lines are written through the driver (:mod:`accounting.bulk_rows`, ids taken
first) and sealed from the values written, not read back; on SQLite the daily totals of many
lines are added in one grouped upsert (:func:`accounting.ledger.account_days.summed_after`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import actor_label, jsonable, record_audits
from accounting.bulk_rows import as_stored, insert_rows, reserve_ids
from accounting.db import utcnow
from accounting.ledger.account_days import summed_after
from accounting.ledger.chart import ensure_accounts, ensure_journal
from accounting.ledger.lines import LineSpec, check_lines, lock_journal_series
from accounting.ledger.models import JournalEntry, JournalLine, JournalSequence, entry_reference
from accounting.money import ZERO
from accounting.org import Member
from accounting.periods import ensure_open_days
from accounting.seal import lock_chain, seal_contents
from accounting.seal_batch import RowText, seal_batches


@dataclass(frozen=True, slots=True)
class BulkEntry:
    """One entry of :func:`post_entries`: what :func:`post_entry` takes for one."""

    journal: str
    entry_date: date
    label: str
    piece_ref: str
    piece_date: date
    specs: list[LineSpec]
    source_type: str
    source_id: int | None
    validated_by: str | None = None


def post_entries(
    session: Session, planned: Sequence[BulkEntry], members: dict[int, Member] | None = None,
    *, imported: bool = False,
) -> list[int]:  # fmt: skip
    """Post many entries as :func:`post_entry` posts each — checked, numbered next in their
    journal and year, audited, sealed — in a constant number of queries: one read of the
    closed periods, one check per journal, one look for the accounts, one lock per series,
    multi-row inserts of the entries, their lines and audit events, one batch of seals.
    Returns the entries' ids in the order given (numbered in that order within each journal
    and year).

    Why: posting an import of 100 000 costs one entry at a time took about 20 ms each.

    ``imported``: the entries of a file import (the FEC's costs), which audits the import as
    one event naming what it wrote: no « post » event per entry, and the entries sealed in
    batch links (:mod:`accounting.seal_batch`) — 200 000 rows fewer for 100 000 costs."""
    for item in planned:
        check_lines(item.specs)
    ensure_open_days(session, (item.entry_date for item in planned))
    for journal in sorted({item.journal for item in planned}):
        ensure_journal(session, journal)
    if members is None:
        wanted = {s.member_id for item in planned for s in item.specs if s.member_id}
        members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(wanted)))}
    ensure_accounts(session, (s for item in planned for s in item.specs), members)
    return _insert_entries(session, planned, imported)


def _insert_entries(
    session: Session, planned: Sequence[BulkEntry], imported: bool = False
) -> list[int]:
    """Number, insert, audit and seal the entries (the chain and each series locked)."""
    # Entries and lines written through the driver with their ids taken first
    # (accounting.bulk_rows): nothing is read back, the seals are built from what was written.
    actor = actor_label(session)
    validated_at = utcnow()
    lock_chain(session)  # the chain before the series (the order every act takes them)
    series: dict[tuple[str, int], JournalSequence] = {}
    for key in sorted({(item.journal, item.entry_date.year) for item in planned}):
        series[key] = lock_journal_series(session, *key)
    table = JournalEntry.__table__
    ids = reserve_ids(session, table, len(planned))
    rows: list[tuple[Any, ...]] = []
    for item, entry_id in zip(planned, ids, strict=True):
        counter = series[(item.journal, item.entry_date.year)]
        counter.last_number += 1
        rows.append((
            entry_id, item.journal, item.entry_date.year, counter.last_number, item.entry_date,
            item.label[:300], item.piece_ref[:100], item.piece_date, item.source_type,
            item.source_id, None, validated_at, (item.validated_by or actor)[:200],
        ))  # fmt: skip
    session.flush()  # the series' counters
    insert_rows(session, table, _ENTRY_COLUMNS, rows)
    lines = _line_rows(session, planned, rows)
    summed_after(session, [line[0] for line in lines],
                 lambda: insert_rows(session, JournalLine.__table__, _LINE_COLUMNS, lines))
    if imported:
        seal_batches(session, JournalEntry.__tablename__, _texts(session, planned, rows, lines),
                     "post", lambda index: entry_reference(*rows[index][1:4]))
        return ids
    contents = _contents(session, rows, lines)
    record_audits(session, "post", JournalEntry.__tablename__, [
        (row[0], {"reference": entry_reference(row[1], row[2], row[3]),
                  "source": f"{row[8]}:{row[9]}",
                  "total": str(sum((s.debit for s in item.specs), ZERO))})
        for item, row in zip(planned, rows, strict=True)
    ], plain=True)  # fmt: skip
    seal_contents(session, JournalEntry.__tablename__, contents, "post")
    return ids


#: The columns of the rows :func:`_insert_entries` and :func:`_line_rows` write, in order.
_ENTRY_COLUMNS = ("id", "journal_code", "year", "number", "entry_date", "label", "piece_ref",
                  "piece_date", "source_type", "source_id", "reverses_id", "validated_at",
                  "validated_by")  # fmt: skip
_LINE_COLUMNS = ("id", "entry_id", "position", "account", "member_id", "service_id", "label",
                 "debit", "credit", "entry_date")  # fmt: skip


def _line_rows(
    session: Session, planned: Sequence[BulkEntry], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """The entries' lines, ids taken, in the order of their entries and positions."""
    ids = iter(reserve_ids(session, JournalLine.__table__,
                           sum(len(item.specs) for item in planned)))  # fmt: skip
    return [
        (next(ids), row[0], position, spec.account, spec.member_id, spec.service_id,
         (spec.label or row[5])[:300], spec.debit, spec.credit, row[4])
        for item, row in zip(planned, rows, strict=True)
        for position, spec in enumerate(item.specs, start=1)
    ]  # fmt: skip


def _contents(
    session: Session, rows: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]
) -> list[tuple[int, dict[str, Any]]]:
    """Each entry's sealed content as :func:`accounting.seal.read_contents` reads it back
    (the row, its lines by id), from the values written, each as the database stores it."""
    dialect = session.get_bind().dialect
    # In their JSON form already (what canonical() would make of them, made once per value).
    entry_as = as_stored(JournalEntry.__table__, _ENTRY_COLUMNS, dialect, jsonable)
    line_as = as_stored(JournalLine.__table__, _LINE_COLUMNS, dialect, jsonable)
    children: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:  # ids ascending within an entry, as the reading orders them
        child = dict(zip(_LINE_COLUMNS, line, strict=True))
        for name, stored in line_as:
            child[name] = stored(child[name])
        children[line[1]].append(child)
    contents: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        values = dict(zip(_ENTRY_COLUMNS, row, strict=True))
        for name, stored in entry_as:
            values[name] = stored(values[name])
        contents.append((row[0], {"row": values,
                                  JournalLine.__tablename__: children.pop(row[0], [])}))
    return contents


def _texts(
    session: Session, planned: Sequence[BulkEntry], rows: list[tuple[Any, ...]],
    lines: list[tuple[Any, ...]],
) -> list[tuple[int, str]]:  # fmt: skip
    """What :func:`_contents` gives, as the canonical text sealed in a batch link:
    ``(id, text)`` (:class:`accounting.seal_batch.RowText`). ``lines``: in the order of their
    entries and positions (:func:`_line_rows`), so each entry's are the next ones."""
    dialect = session.get_bind().dialect
    entry_text = RowText(JournalEntry.__table__, _ENTRY_COLUMNS, dialect)
    line_texts = iter(RowText(JournalLine.__table__, _LINE_COLUMNS, dialect).many(lines))
    # {"journal_lines": [...], "row": {...}}: the keys in canonical (sorted) order.
    return [
        (row[0], '{"journal_lines":[' + ",".join(islice(line_texts, len(item.specs)))
         + '],"row":' + text + "}")
        for item, row, text in zip(planned, rows, entry_text.many(rows), strict=True)
    ]  # fmt: skip
