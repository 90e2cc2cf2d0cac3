"""The carrier's costs from its FEC: every line kept, or listed with its total.

Each line of the file ends in exactly one of three places (invariant 11, DESIGN §5 « Books an
accountant signs »):

* **imported** — a class 6 (or 7) line a rule maps to a service (:mod:`imports.fec_rules`):
  per entry, the lines of one account and service are summed into one cost (subsidy for
  class 7), **debits minus credits**: a credit (reversal EX*/INV*, refund, payroll
  correction) reduces the service's costs, a net credit is a negative cost; the account is
  mapped to the carrier's chart (:mod:`accounting.ledger.mapping`); the cost keeps the file's
  journal and its entry's counterpart account;
* **counterpart** — the balance-sheet lines (classes 1-5) of an entry that has imported lines;
* **left aside** — class 6/7 lines no rule maps, and the lines of entries that import nothing
  (bank, sales, opening balances): listed per account with their debit and credit; the import
  refuses unless nothing is left aside or the user confirms (``accept_unmapped``).

Refused with every error by line, nothing written: a malformed or unbalanced file
(``read_fec``), a file over :data:`MAX_FEC_BYTES`, a date outside the fiscal year (of the
file name, else the carrier's year of the first line), an account the chart does not know, a
cost in a closed period, a file already imported. A later FEC of the same year adds only its
new entries (each cost keeps a fingerprint of its entry, account and amount: ``import_key``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.cost_bulk import add_costs
from accounting.costs import MODELS, CostInput, CostKind, CostNature, check_cost_input
from accounting.db import transaction_lock
from accounting.fec import FecRow, fiscal_year_start, parse_fec_filename
from accounting.fec_check import FecIssue, _gc_paused
from accounting.ledger.chart import SUSPENSE
from accounting.ledger.errors import MappingError
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds, fiscal_year_of
from accounting.ledger.mapping import mapper, unknown_accounts
from accounting.money import ZERO
from accounting.org import Service
from accounting.periods import (
    Period,
    PeriodStatus,
    hold_periods,
    locked_message,
    locked_ranges,
)
from accounting.wording import plural
from imports.errors import ImportRefused, RowError
from imports.fec import FecFile, read_fec
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
UNMAPPED, BALANCE_SHEET = "unmapped", "balance_sheet"
_CODE = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True, slots=True)
class PlannedCost:
    """A cost or subsidy the import would add (``already``: imported before, skipped);
    ``debit`` and ``credit``: the file's lines behind it."""

    line: int
    data: CostInput
    service_code: str
    import_key: str
    already: bool
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    entry: str = ""


@dataclass(frozen=True, slots=True)
class LeftAside:
    """The lines of one account the import leaves aside: ``unmapped`` (class 6/7, no rule)
    or ``balance_sheet`` (an entry that imports nothing)."""

    account: str
    label: str
    lines: int
    debit: Decimal
    credit: Decimal
    reason: str
    first_line: int


@dataclass
class FecCostPreview:
    """What importing the file would do; nothing is written."""

    costs: list[PlannedCost] = field(default_factory=list)
    left_aside: list[LeftAside] = field(default_factory=list)
    warnings: list[FecIssue] = field(default_factory=list)
    analytic_column: str | None = None
    extra_columns: tuple[str, ...] = ()
    fiscal_year: tuple[date, date] | None = None
    file_debit: Decimal = ZERO
    file_credit: Decimal = ZERO

    @property
    def new(self) -> list[PlannedCost]:
        return [cost for cost in self.costs if not cost.already]

    @property
    def unmapped(self) -> list[LeftAside]:
        return [item for item in self.left_aside if item.reason == UNMAPPED]

    @property
    def left_aside_debit(self) -> Decimal:
        return sum((item.debit for item in self.left_aside), ZERO)

    @property
    def left_aside_credit(self) -> Decimal:
        return sum((item.credit for item in self.left_aside), ZERO)

    @property
    def needs_confirmation(self) -> bool:
        """Lines are left aside: the import goes on only if the user confirms."""
        return bool(self.left_aside_debit or self.left_aside_credit)

    def totals_by_service(self) -> dict[str, dict[str, Decimal]]:
        """Per service code, of the new costs and subsidies: the file's debits and credits
        behind them, and what the service's pool changes by (``net``: costs − subsidies)."""
        totals: dict[str, dict[str, Decimal]] = defaultdict(
            lambda: {"debit": ZERO, "credit": ZERO, "net": ZERO}
        )
        for cost in self.new:
            found = totals[cost.service_code]
            found["debit"] += cost.debit
            found["credit"] += cost.credit
            sign = 1 if cost.data.kind is CostKind.COST else -1
            found["net"] += sign * cost.data.amount
        return {code: found for code, found in sorted(totals.items())}

    def net_by_account(self) -> dict[str, Decimal]:
        """Debit minus credit of the imported lines per account of the carrier's chart."""
        net: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for cost in self.costs:
            net[cost.data.account] += cost.debit - cost.credit
        return dict(net)


# ------------------------------------------------------------------ preview


def _analytic_column(extra: tuple[str, ...], wanted: str | None) -> int | None:
    if not extra:
        return None
    names = [name.strip().lower() for name in extra]
    if wanted:
        if wanted.strip().lower() in names:
            return names.index(wanted.strip().lower())
        raise MappingError(f"Colonne analytique « {wanted} » absente du fichier.")
    for index, name in enumerate(names):
        if name in ANALYTIC_NAMES or "analyt" in name:
            return index
    return None


def fingerprint(row: FecRow, account: str, kind: str, amount: Decimal, occurrence: int) -> str:
    parts = ["fec", row.journal_code, row.ecriture_num, row.ecriture_date.isoformat(), account,
             kind, str(amount), str(occurrence)]  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _closed(session: Session) -> list[tuple[date, date, str]]:
    hold_periods(session)  # no period closes until this import commits or rolls back
    rows = session.scalars(select(Period).where(Period.status == PeriodStatus.CLOSED.value))
    return [(period.start, period.end, period.label) for period in rows]


def check_size(path: str | Path) -> None:
    """Refuse a file over :data:`MAX_FEC_BYTES` before reading it."""
    size = Path(path).stat().st_size
    if size > MAX_FEC_BYTES:
        raise ImportRefused([RowError(None, None, (
            f"Fichier de {size / (1 << 30):.1f} Go : un FEC importé fait au plus "
            f"{MAX_FEC_BYTES >> 30} Go ; découpez-le par période. Rien n'a été importé."
        ))])  # fmt: skip


def _fiscal_year(session: Session, path: str | Path, rows: list[FecRow]) -> tuple[date, date]:
    """The year the file covers: the closing date of its name, else the carrier's fiscal
    year of its first line."""
    name = parse_fec_filename(path)
    if name is not None and name.closing_date is not None:
        return fiscal_year_start(name.closing_date), name.closing_date
    start_month = carrier_start_month(session)
    first = rows[0].ecriture_date if rows else date.today()
    return fiscal_year_bounds(fiscal_year_of(first, start_month), start_month)


def _outside_year(rows: list[FecRow], start: date, end: date) -> list[RowError]:
    return [
        RowError(row.line, "EcritureDate", (
            f"EcritureDate {row.ecriture_date:%d/%m/%Y} hors de l'exercice du "
            f"{start:%d/%m/%Y} au {end:%d/%m/%Y}."
        ))
        for row in rows if not start <= row.ecriture_date <= end
    ]  # fmt: skip


def _counterpart(sheet: list[FecRow], canonical: object, credit_side: bool) -> str:
    """The balance-sheet account on the other side of the costs in their entry (a third
    party: 401 + its auxiliary code), or the suspense account 471000 when there are several
    (a payroll entry's 421, 431 and 437) or none."""
    found = set()
    for row in sheet:
        if (row.credit > row.debit) != credit_side:
            continue
        account = canonical(row.compte_num)  # type: ignore[operator]
        aux = _CODE.sub("", row.comp_aux_num.upper())[:17]
        found.add(account[:3] + aux if aux and account[:1] == "4" else account)
    return found.pop() if len(found) == 1 else SUSPENSE


def _entries_with_costs(
    rows: list[FecRow], left: _LeftAside, rule_for: Callable[[FecRow], Rule | None]
) -> dict[tuple[str, str], list]:
    """The rows of the entries that have a class 6 or 7 line a rule maps, by entry; the lines
    of the other entries go straight to ``left`` (left aside: class 6/7 as unmapped, the others
    as balance sheet). Two plain passes: most entries of a year (sales, bank) import nothing,
    and this is the loop over every line."""
    with_costs = {(row.journal_code, row.ecriture_num) for row in rows
                  if row.compte_num[:1] in "67" and rule_for(row) is not None}  # fmt: skip
    entries: dict[tuple[str, str], list[FecRow]] = defaultdict(list)
    stats = left.stats
    for row in rows:
        key = (row.journal_code, row.ecriture_num)
        if key in with_costs:
            entries[key].append(row)
            continue
        where = (row.compte_num, UNMAPPED if row.compte_num[:1] in "67" else BALANCE_SHEET)
        found = stats.get(where)
        if found is None:
            stats[where] = [row.compte_lib, 1, row.debit, row.credit, row.line]
        else:
            found[1] += 1
            found[2] += row.debit
            found[3] += row.credit
    return entries


class _LeftAside:
    """Accumulates the lines left aside, per account and reason."""

    def __init__(self) -> None:
        self.stats: dict[tuple[str, str], list] = {}

    def add(self, row: FecRow, reason: str) -> None:
        stats = self.stats.get((row.compte_num, reason))
        if stats is None:
            stats = self.stats[(row.compte_num, reason)] = [row.compte_lib, 0, ZERO, ZERO, row.line]
        stats[1] += 1
        stats[2] += row.debit
        stats[3] += row.credit
        stats[4] = min(stats[4], row.line)

    def items(self) -> list[LeftAside]:
        return [
            LeftAside(account, label, count, debit, credit, reason, first)
            for (account, reason), (label, count, debit, credit, first) in sorted(
                self.stats.items(), key=lambda item: (item[0][1] != UNMAPPED, item[0][0]))
        ]  # fmt: skip


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
    fec = read_fec(path)
    with _gc_paused():  # a million rows held: the collector would walk them again and again
        return _preview(session, path, fec, rules, analytic_column)


def _preview(
    session: Session, path: str | Path, fec: FecFile, rules: list[Rule],
    analytic_column: str | None,
) -> FecCostPreview:  # fmt: skip
    preview = FecCostPreview(warnings=fec.warnings, extra_columns=fec.extra_columns,
                             file_debit=fec.total_debit, file_credit=fec.total_credit)  # fmt: skip
    column = _analytic_column(fec.extra_columns, analytic_column)
    preview.analytic_column = fec.extra_columns[column] if column is not None else None
    start, end = preview.fiscal_year = _fiscal_year(session, path, fec.rows)
    errors = _outside_year(fec.rows, start, end)
    saved = mapper(session)
    mapped: dict[str, str] = {}

    def canonical(number: str) -> str:
        found = mapped.get(number)
        if found is None:
            found = mapped[number] = saved(number)
        return found

    rule_of: dict[tuple[str, str], Rule | None] = {}

    def rule_for(row: FecRow) -> Rule | None:
        key = (row.compte_num, row.extra[column] if column is not None else "")
        found = rule_of.get(key, False)
        if found is False:
            found = rule_of[key] = next((r for r in rules if r.matches(*key)), None)
        return found  # type: ignore[return-value]

    left = _LeftAside()
    entries = _entries_with_costs(fec.rows, left, rule_for)
    planned: list[tuple[list[FecRow], str, int, str, str]] = []
    for rows in entries.values():
        groups: dict[tuple[str, int], list[FecRow]] = defaultdict(list)
        sheet: list[FecRow] = []
        for row in rows:
            if row.compte_num[:1] not in "67":
                sheet.append(row)
                continue
            rule = rule_for(row)
            if rule is None:
                left.add(row, UNMAPPED)
            else:
                groups[(canonical(row.compte_num), rule.service_id)].append(row)
        if not groups:
            for row in sheet:
                left.add(row, BALANCE_SHEET)
            continue
        party = next((r.comp_aux_lib or r.compte_lib for r in rows
                      if r.compte_num.startswith("40")), "")  # fmt: skip
        for (account, service_id), lines in groups.items():
            debit_side = sum((r.debit - r.credit for r in lines), ZERO) > ZERO
            counterpart = _counterpart(sheet, canonical, credit_side=debit_side)
            planned.append((lines, account, service_id, counterpart, party))
    preview.left_aside = left.items()
    errors += _plan_costs(session, preview, planned)
    if errors:
        raise ImportRefused(sorted(errors, key=RowError.sort_key))
    existing = _existing_keys(session, start, end)
    preview.costs = [
        PlannedCost(c.line, c.data, c.service_code, c.import_key, c.import_key in existing,
                    c.debit, c.credit, c.entry)
        for c in preview.costs
    ]  # fmt: skip
    return preview


def _plan_costs(
    session: Session, preview: FecCostPreview,
    planned: list[tuple[list[FecRow], str, int, str, str]],
) -> list[RowError]:  # fmt: skip
    """Turn each (lines, account, service, counterpart, party) into a ``PlannedCost``; return
    the errors (bad cost, closed period, account unknown to the chart)."""
    codes = {service.id: service.code for service in session.scalars(select(Service))}
    closed = _closed(session)
    locked = locked_ranges(session)  # invoiced periods (DESIGN §4)
    unknown = unknown_accounts(session, {p[1] for p in planned})
    seen: Counter[str] = Counter()
    errors: list[RowError] = []
    for lines, account, service_id, counterpart, party in planned:
        first = lines[0]
        debit = sum((r.debit for r in lines), ZERO)
        credit = sum((r.credit for r in lines), ZERO)
        if debit == credit:
            continue  # the lines cancel out inside the entry: nothing changes the costs
        kind = CostKind.COST if account.startswith("6") else CostKind.SUBSIDY
        amount = debit - credit if kind is CostKind.COST else credit - debit
        journal = _CODE.sub("", first.journal_code.upper())[:10] or "HA"
        data = CostInput(
            kind=kind, service_id=service_id, day=first.ecriture_date, amount=amount,
            account=account, label=(first.ecriture_lib or first.compte_lib)[:300],
            party=party[:200], reference=first.piece_ref[:100], nature=CostNature.FEC,
            journal_code=journal, counterpart=counterpart,
        )  # fmt: skip
        for problem, message in check_cost_input(data):
            errors.append(RowError(first.line, _COLUMN.get(problem, problem), message))
        if account in unknown:
            errors.append(RowError(first.line, "CompteNum", (
                f"Compte {account} inconnu du plan comptable de la structure : ajoutez-le "
                "(Comptabilité › Plan comptable) ou une correspondance de comptes."
            )))  # fmt: skip
        for period_start, period_end, label in closed:
            if period_start <= data.day <= period_end:
                errors.append(RowError(first.line, "EcritureDate", (
                    f"La période {label} est clôturée : le {data.day:%d/%m/%Y} est en "
                    "lecture seule."
                )))  # fmt: skip
                break
        for start, end, label in locked:
            if start <= data.day <= end:
                errors.append(RowError(first.line, "EcritureDate", locked_message(data.day, label)))
                break
        probe = fingerprint(first, account, kind.value, amount, 0)
        occurrence = seen[probe]
        key = fingerprint(first, account, kind.value, amount, occurrence) if occurrence else probe
        seen[probe] = occurrence + 1
        preview.costs.append(PlannedCost(
            first.line, data, codes[service_id], key, False, debit, credit,
            f"{first.journal_code}/{first.ecriture_num}",
        ))  # fmt: skip
    return errors


_COLUMN = {"amount": "Debit", "account": "CompteNum", "label": "EcritureLib",
           "party": "CompAuxLib", "reference": "PieceRef"}  # fmt: skip


def _existing_keys(session: Session, start: date, end: date) -> set[str]:
    """The fingerprints of the costs and subsidies already imported for the fiscal year (one
    query per table: a fingerprint holds its line's date, so only that year can match)."""
    found: set[str] = set()
    for model in MODELS.values():
        found.update(session.scalars(
            select(model.import_key).where(model.import_key.is_not(None),
                                           model.day >= start, model.day <= end)
        ))  # fmt: skip
    return found


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
    preview = preview_fec_costs(session, path, rules, analytic_column=analytic_column)
    refused = _refusals(preview, accept_unmapped)
    if refused:
        raise ImportRefused(refused)
    if rules is not None and save:
        save_rules(session, list(rules))
    # Saved, audited, posted and sealed in multi-row inserts (add_cost, one at a time, took
    # about 22 ms a cost); the same rows, entries and seals.
    added = add_costs(session, [(cost.data, cost.import_key) for cost in preview.new],
                      user_id=user_id)  # fmt: skip
    created = sum(added.values())
    result = ImportResult(created=created, unchanged=len(preview.costs) - created)
    record_audit(
        session, "import", "costs",
        after={"file": Path(path).name, "source": "fec", "costs": added["cost"],
               "subsidies": added["subsidy"], "skipped": result.unchanged,
               "left_aside_debit": str(preview.left_aside_debit),
               "left_aside_credit": str(preview.left_aside_credit)},
    )  # fmt: skip
    session.flush()
    return result, preview
