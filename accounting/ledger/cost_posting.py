"""Posting costs and subsidies: the entries :mod:`accounting.ledger.cost_entries` plans for
a line by what it is (payroll, supplier invoice, paid directly, imported, subsidy) and its
payment, written through :func:`accounting.ledger.posting.post_entry`; a changed line has its
live entries reversed and posted again, a deleted one reversed.

Called by :mod:`accounting.costs` after it saved the line, in the same transaction; flushes,
never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from accounting.ledger.bulk_posting import BulkEntry, post_entries
from accounting.ledger.cost_entries import (
    COST_SOURCES,
    SUBSIDY_SOURCES,
    PlannedEntry,
    plan_cost_entries,
)
from accounting.ledger.models import JournalEntry
from accounting.ledger.posting import (
    LineSpec,
    _live_entries,
    _refuse_if_posted,
    post_entry,
    reverse_entry,
)
from accounting.org import Service

if TYPE_CHECKING:  # the ledger reads the cost models, never the service that records them
    from accounting.cost_models import Cost, Subsidy


def _cost_source(line: Cost | Subsidy) -> str:
    return "subsidy" if line.kind == "subsidy" else "cost"


def _cost_sources(line: Cost | Subsidy) -> tuple[str, ...]:
    return SUBSIDY_SOURCES if line.kind == "subsidy" else COST_SOURCES


def _planned(session: Session, line: Cost | Subsidy) -> list[PlannedEntry]:
    service = session.get(Service, line.service_id)
    return plan_cost_entries(line, service.name if service is not None else "", LineSpec)


def _post_planned(session: Session, line: Cost | Subsidy, planned: PlannedEntry) -> JournalEntry:
    return post_entry(
        session,
        journal=planned.journal,
        entry_date=planned.entry_date,
        label=planned.label,
        piece_ref=planned.piece_ref,
        piece_date=line.day,
        lines=planned.lines,
        source_type=planned.source_type,
        source_id=line.id,
    )


def post_cost(session: Session, line: Cost | Subsidy) -> JournalEntry:
    """The entries of a cost or subsidy by its nature (:mod:`accounting.ledger.cost_entries`:
    payroll PA, supplier invoice HA, paid directly BQ, imported in the file's journal, subsidy
    OD) and of its payment when it has one; returns the first (the cost's own)."""
    source_type = _cost_source(line)
    what = f"{'La subvention' if source_type == 'subsidy' else 'La charge'} n° {line.id}"
    _refuse_if_posted(session, source_type, line.id, what)
    entries = [_post_planned(session, line, planned) for planned in _planned(session, line)]
    return entries[0]


def post_costs(
    session: Session, lines: Sequence[Any], service_names: dict[int, str]
) -> list[int]:
    """:func:`post_cost` for many lines just inserted (a FEC import), in order: the same
    entries, numbered in the same order, posted by :func:`post_entries` in a constant number
    of queries, as an import's (audited by the import, sealed in batch links). The lines are
    new, so none has an entry yet (not looked up). Returns the entries' ids."""
    planned = [
        BulkEntry(p.journal, p.entry_date, p.label, p.piece_ref, line.day, p.lines,
                  p.source_type, line.id)
        for line in lines
        for p in plan_cost_entries(line, service_names.get(line.service_id, ""), LineSpec)
    ]  # fmt: skip
    return post_entries(session, planned, {}, imported=True) if planned else []


def repost_cost(session: Session, line: Cost | Subsidy) -> JournalEntry:
    """After a cost or subsidy changed: reverse its live entries (its own and its payment's)
    and post them again as it is now (nothing is written when what they say did not change)."""
    live = [e for source in _cost_sources(line) for e in _live_entries(session, source, line.id)]
    planned = _planned(session, line)

    def shape(journal: str, day: date, lines: Iterable[Any]) -> tuple[Any, ...]:
        return (journal, day, tuple((x.account, x.debit, x.credit, x.service_id, x.label)
                                    for x in lines))  # fmt: skip

    have = sorted((shape(e.journal_code, e.entry_date, e.lines) for e in live), key=repr)
    wanted = sorted((shape(p.journal, p.entry_date, p.lines) for p in planned), key=repr)
    if have == wanted and live:
        return min(live, key=lambda entry: entry.id)
    unpost_cost(session, line, reason="charge modifiée")
    return post_cost(session, line)


def unpost_cost(
    session: Session, line: Cost | Subsidy, *, reason: str = "charge supprimée"
) -> None:
    """Before a cost or subsidy is deleted: reverse its live entries (if it has any)."""
    for source in _cost_sources(line):
        for entry in _live_entries(session, source, line.id):
            reverse_entry(session, entry, reason=reason)


