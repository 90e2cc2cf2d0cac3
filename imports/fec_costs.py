"""The carrier's costs from its FEC: every line kept, or listed with its total.

Each line of the file ends in exactly one of three places (invariant 11, DESIGN §5 « Books an
accountant signs »):

* **imported** — a class 6 (or 7) line a rule maps to a service (:mod:`imports.fec_rules`):
  per entry, the lines of one account and service are summed into one cost (subsidy for
  class 7), **debits minus credits**: a credit (reversal EX*/INV*, refund, payroll
  correction) reduces the service's costs, a net credit is a negative cost; the account is
  mapped to the carrier's chart (:mod:`accounting.ledger.mapping`); the cost keeps the file's
  journal and its share of each of its entry's counterparts (several: a payroll's 421, 431,
  437; a supplier's 401 + code and deductible VAT 44566 — :mod:`accounting.counterpart_split`,
  exact per cost and per counterpart), so its entry posts the file's lines;
* **counterpart** — the balance-sheet lines (classes 1-5) of an entry that has imported lines;
* **left aside** — class 6/7 lines no rule maps, and the lines of entries that import nothing
  (bank, sales, opening balances): listed per account with their debit and credit; the import
  refuses unless nothing is left aside or the user confirms (``accept_unmapped``).

Refused with every error by line, nothing written: a malformed or unbalanced file
(``read_fec``), a file over :data:`MAX_FEC_BYTES`, a date outside the fiscal year (of the
file name, else the carrier's year of the first line), an account the chart does not know, a
cost in a closed period, a file already imported. A later FEC of the same year adds only its
new entries (each cost keeps a fingerprint of its entry, account and amount: ``import_key``).

The file is read once, streamed: each entry is planned when its lines have gone by
(:mod:`imports.fec_plan`), so memory holds the planned costs, not the million rows; the costs
are then written in multi-row inserts (:func:`accounting.cost_bulk.add_costs`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.collector import collector_paused
from accounting.cost_bulk import add_costs
from accounting.cost_models import CostInput
from accounting.db import transaction_lock
from accounting.fec import FecRow
from accounting.fec_check import _gc_paused
from accounting.ledger.errors import MappingError
from accounting.wording import plural
from imports.errors import ImportRefused, RowError
from imports.fec import FecFile, read_fec, stream_fec
from imports.fec_beside import import_beside
from imports.fec_fast import read_fast
from imports.fec_plan import (  # noqa: F401 - names callers import from here
    BALANCE_SHEET,
    UNMAPPED,
    EntryPlanner,
    FecCostPreview,
    Interleaved,
    LeftAside,
    PlannedCost,
    fingerprint,
)
from imports.fec_rules import (  # noqa: F401 - the rules' names, as callers import them here
    ACCOUNT,
    ANALYTIC,
    ANALYTIC_NAMES,
    Rule,
    make_rule,
    ordered,
    parse_rule,
    save_rules,
    saved_rules,
)
from imports.members import ImportResult

#: The largest FEC read (1 GiB: a million lines is about 200 MB); refused before reading.
MAX_FEC_BYTES = 1 << 30


def check_size(path: str | Path) -> None:
    """Refuse a file over :data:`MAX_FEC_BYTES` before reading it."""
    size = Path(path).stat().st_size
    if size > MAX_FEC_BYTES:
        raise ImportRefused([RowError(None, None, (
            f"Fichier de {size / (1 << 30):.1f} Go : un FEC importé fait au plus "
            f"{MAX_FEC_BYTES >> 30} Go ; découpez-le par période. Rien n'a été importé."
        ))])  # fmt: skip


def preview_fec_costs(
    session: Session, path: str | Path, rules: Sequence[Rule] | None = None, *,
    analytic_column: str | None = None,
) -> FecCostPreview:  # fmt: skip
    """Read the FEC at ``path`` and say what importing it with ``rules`` (default: the saved
    ones) would add, and what it leaves aside. Raises ``ImportRefused`` (every error by line)
    on bad input (see the module docstring); nothing is written."""
    rules = ordered(saved_rules(session) if rules is None else rules)
    if not rules:
        raise MappingError(
            "Aucune règle d'affectation : indiquez quels comptes (ex. 64* → chargé de "
            "développement) ou quels codes analytiques vont à quel service."
        )
    check_size(path)
    with _gc_paused():  # the planned costs held: the collector would walk them again and again
        planner = EntryPlanner(session, path, rules, analytic_column)
        fec = read_fast(path, planner)  # the usual file, column by column
        if fec is None:  # something to report, or read otherwise: line by line
            fec, planner = _read_lines(session, path, rules, analytic_column)
        return _preview(planner, fec)


def _preview(planner: EntryPlanner, fec: FecFile) -> FecCostPreview:
    """The preview of a file read (``ImportRefused`` with every error by line)."""
    errors = planner.finish()
    if errors:
        raise ImportRefused(sorted(errors, key=RowError.sort_key))
    column = planner.column
    return FecCostPreview(
        costs=planner.costs, left_aside=planner.left_aside(), warnings=fec.warnings,
        analytic_column=fec.extra_columns[column] if column is not None else None,
        extra_columns=fec.extra_columns, fiscal_year=planner.year,
        file_debit=fec.total_debit, file_credit=fec.total_credit,
    )  # fmt: skip


def _read_lines(
    session: Session, path: str | Path, rules: Sequence[Rule], analytic_column: str | None,
) -> tuple[FecFile, EntryPlanner]:  # fmt: skip
    """The line-by-line reading (:mod:`accounting.fec_check`): every error and warning with
    its line; an interleaved file is read again holding its rows, grouped by entry."""
    planner = EntryPlanner(session, path, list(rules), analytic_column)
    try:
        fec = stream_fec(path, planner, on_header=planner.header)
    except Interleaved:  # an entry's lines apart: read again holding the rows, grouped
        fec = read_fec(path)
        planner = EntryPlanner(session, path, list(rules), analytic_column)
        planner.columns(fec.extra_columns)
        for rows in _by_entry(fec.rows):
            for row in rows:
                planner.append(row)
    return fec, planner


def _by_entry(rows: list[FecRow]) -> list[list[FecRow]]:
    """The rows grouped by entry, entries in the order of their first line."""
    entries: dict[tuple[str, str], list[FecRow]] = defaultdict(list)
    for row in rows:
        entries[(row.journal_code, row.ecriture_num)].append(row)
    return list(entries.values())


# ------------------------------------------------------------------ import


def _refusals(preview: FecCostPreview, accept_unmapped: bool) -> list[RowError]:
    """A file already imported; lines left aside without the user's confirmation."""
    if preview.costs and not preview.new:
        first = preview.costs[0]
        return [RowError(first.line, "EcritureNum", (
            f"Fichier déjà importé : l'écriture {first.entry} et les "
            f"{plural(len(preview.costs) - 1, 'autre imputation')} "
            f"{'sont' if len(preview.costs) > 2 else 'est'} déjà dans les charges ; "
            "rien n'a été écrit."
        ))]  # fmt: skip
    if accept_unmapped or not preview.needs_confirmation:
        return []
    why = {UNMAPPED: "aucune règle ne l'affecte à un service",
           BALANCE_SHEET: "compte de bilan d'une écriture sans charge importée"}  # fmt: skip
    return [
        RowError(item.first_line, "CompteNum", (
            f"Compte {item.account} ({item.label}) laissé de côté : {why[item.reason]} — "
            f"{plural(item.lines, 'ligne')}, débit {item.debit} €, crédit {item.credit} €. Total "
            f"laissé de côté : débit {preview.left_aside_debit} €, crédit "
            f"{preview.left_aside_credit} € ; confirmez (--accept-unmapped) ou ajoutez une "
            "règle."
        ))
        for item in preview.left_aside
    ]  # fmt: skip


class _Items(Sequence[tuple[CostInput, str]]):
    """The ``(data, import_key)`` pairs :func:`add_costs` writes, made when read (a slice at
    a time) rather than listed up front. Why: 100 000 pairs and their 64-character keys held
    through the writes were about 17 MB of a 1 000 000-line import's peak (issue 16)."""

    def __init__(self, costs: list[PlannedCost]) -> None:
        self._costs = costs

    def __len__(self) -> int:
        return len(self._costs)

    @overload
    def __getitem__(self, index: int) -> tuple[CostInput, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[CostInput, str]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [(cost.data, cost.import_key) for cost in self._costs[index]]
        cost = self._costs[index]
        return cost.data, cost.import_key

    def __iter__(self) -> Iterator[tuple[CostInput, str]]:
        return ((cost.data, cost.import_key) for cost in self._costs)


def import_fec_costs(
    session: Session, path: str | Path, rules: Sequence[Rule] | None = None, *,
    analytic_column: str | None = None, save: bool = True, user_id: int | None = None,
    accept_unmapped: bool = False,
) -> tuple[ImportResult, FecCostPreview]:  # fmt: skip
    """Add the costs and subsidies of the carrier's FEC at ``path`` (all-or-nothing);
    ``rules`` given are saved for next time when ``save``. Refused when lines are left aside
    unless ``accept_unmapped``, and when the file was imported already. Each cost posts its
    journal entry. Flushes; the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:costs")
    chosen = ordered(saved_rules(session) if rules is None else rules)
    check_size(path)
    beside = import_beside(session, path, chosen, analytic_column, user_id) if chosen else None
    if beside is not None:  # read in a second process while the costs were written here
        try:
            preview = _preview(beside.planner, beside.fec)
            refused = _refusals(preview, accept_unmapped)
            if refused:
                raise ImportRefused(refused)
        except BaseException:
            if beside.savepoint is not None:
                beside.savepoint.rollback()
            raise
        assert beside.savepoint is not None  # rolled back only with errors, refused above
        beside.savepoint.commit()
        added = beside.added
    else:
        preview = preview_fec_costs(session, path, chosen, analytic_column=analytic_column)
        refused = _refusals(preview, accept_unmapped)
        if refused:
            raise ImportRefused(refused)
        # Saved, audited, posted and sealed in multi-row inserts (add_cost, one at a time,
        # took about 22 ms a cost); the same rows, entries and seals.
        with collector_paused():  # 100 000 rows and links alive: no full collections
            # Every cost was checked by the planner (a problem refused the file above).
            added = add_costs(session, _Items(preview.new), user_id=user_id, checked=True)
    if rules is not None and save:
        save_rules(session, list(rules))
    created = sum(added.kinds.values())
    result = ImportResult(created=created, unchanged=len(preview.costs) - created)
    # The import's one audit event: who, when, which file, and the rows it wrote (first and
    # last id per table; each cost also keeps its author, time and import_key).
    record_audit(
        session, "import", "costs",
        after={"file": Path(path).name, "source": "fec", "costs": added.kinds["cost"],
               "subsidies": added.kinds["subsidy"], "skipped": result.unchanged,
               "left_aside_debit": str(preview.left_aside_debit),
               "left_aside_credit": str(preview.left_aside_credit), "ids": added.ids},
    )  # fmt: skip
    session.flush()
    return result, preview
