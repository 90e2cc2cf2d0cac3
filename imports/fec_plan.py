"""What importing a FEC's costs would do, worked out as the file streams by.

Each line ends in exactly one of three places (invariant 11, DESIGN §5; the rules in
:mod:`imports.fec_costs`): **imported** (a class 6/7 line a rule maps, summed per entry,
account and service, debits minus credits), **counterpart** (the balance-sheet lines of an
entry with imported lines) or **left aside** (listed per account with its total).

Design: :class:`EntryPlanner` is the reader's row sink (:func:`imports.fec.stream_fec`): it
holds the lines of the current entry only; when the entry ends it plans its costs
(``PlannedCost``) or adds its lines to the totals left aside, and forgets them. A FEC lists
each entry's lines together (every accounting program writes them so), which is what lets a
million lines be read in bounded memory; an entry seen again after another one (the reader
calls ``on_interleaved``) raises :class:`Interleaved`, and the caller reads the file again
holding its rows and feeds them grouped by entry: slower, never wrong. The checks that need
the whole file — each entry balanced, the file balanced — are the reader's (per-entry
aggregates), and a cost's fingerprint tells an entry already imported.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.costs import MODELS, CostInput, CostKind, CostNature, check_cost_input
from accounting.counterpart_split import Share, split_costs
from accounting.fec import FecRow, fiscal_year_start, parse_fec_filename
from accounting.fec_check import FecIssue, FecScan
from accounting.ledger.chart import SUSPENSE
from accounting.ledger.errors import MappingError
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds, fiscal_year_of
from accounting.ledger.mapping import mapper, unknown_accounts
from accounting.money import ZERO
from accounting.org import Service
from accounting.periods import Period, PeriodStatus, hold_periods, locked_message, locked_ranges
from accounting.pickling import tuple_state
from imports.errors import RowError
from imports.fec_rules import ANALYTIC_NAMES, Rule

UNMAPPED, BALANCE_SHEET = "unmapped", "balance_sheet"
#: Planned costs handed on at once by a reading process (``on_costs``).
SLICE = 5_000
_CODE = re.compile(r"[^A-Z0-9]")
ONE = Decimal(1)


@tuple_state
@dataclass(frozen=True, slots=True)
class PlannedCost:
    """A cost or subsidy the import would add (``already``: imported before, skipped);
    ``debit`` and ``credit``: the file's lines behind it. ``digest``: the fingerprint's
    32 bytes (``import_key``, its hex text, is made when asked: 48 bytes fewer a planned cost
    held, 100 000 of them in a 1 000 000-line FEC, issue 16)."""

    line: int
    data: CostInput
    service_code: str
    digest: bytes
    already: bool
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    entry: str = ""

    @property
    def import_key(self) -> str:
        """The fingerprint stored with the cost (:func:`fingerprint`)."""
        return self.digest.hex()


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


def fingerprint(row: FecRow, account: str, kind: str, amount: Decimal, occurrence: int) -> str:
    parts = ["fec", row.journal_code, row.ecriture_num, row.ecriture_date.isoformat(), account,
             kind, str(amount), str(occurrence)]  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _difference(debit: Decimal, credit: Decimal) -> Decimal:
    """``debit - credit``; ``debit`` itself when that is the same number written the same way
    (no credit, as many decimals): one ``Decimal`` fewer per planned cost held (issue 16)."""
    if not credit and debit.as_tuple().exponent <= credit.as_tuple().exponent:
        return debit  # x - 0 keeps x's digits and the smaller exponent: x's
    return debit - credit


def analytic_column(extra: tuple[str, ...], wanted: str | None) -> int | None:
    """The index (among the extra columns) of the analytic column: ``wanted``, else the first
    whose name says so; None without one."""
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


def _closed(session: Session) -> list[tuple[date, date, str]]:
    hold_periods(session)  # no period closes until this import commits or rolls back
    rows = session.scalars(select(Period).where(Period.status == PeriodStatus.CLOSED.value))
    return [(period.start, period.end, period.label) for period in rows]


def fiscal_year(session: Session, path: str | Path, first: date | None) -> tuple[date, date]:
    """The year the file covers: the closing date of its name, else the carrier's fiscal
    year of its first line."""
    name = parse_fec_filename(path)
    if name is not None and name.closing_date is not None:
        return fiscal_year_start(name.closing_date), name.closing_date
    start_month = carrier_start_month(session)
    return fiscal_year_bounds(fiscal_year_of(first or date.today(), start_month), start_month)


def existing_keys(session: Session, start: date, end: date) -> set[str]:
    """The fingerprints of the costs and subsidies already imported for the fiscal year (one
    query per table: a fingerprint holds its line's date, so only that year can match)."""
    found: set[str] = set()
    for model in MODELS.values():
        found.update(session.scalars(
            select(model.import_key).where(model.import_key.is_not(None),
                                           model.day >= start, model.day <= end)
        ))  # fmt: skip
    return found


def _counterparts(
    sheet: list[FecRow], canonical: Callable[[str], str]
) -> list[tuple[str, Decimal]]:
    """The entry's balance-sheet accounts (a third party: 401 + its auxiliary code), each with
    its credit − debit, in the order of their first line: the columns of the split
    (:func:`accounting.counterpart_split.split_costs`)."""
    found: dict[str, Decimal] = {}
    for row in sheet:
        account = canonical(row.compte_num)
        aux = _CODE.sub("", row.comp_aux_num.upper())[:17] if row.comp_aux_num else ""
        key = account[:3] + aux if aux and account[:1] == "4" else account
        found[key] = found.get(key, ZERO) + row.credit - row.debit
    return list(found.items())


class Interleaved(Exception):
    """An entry's lines are not together in the file: it must be read holding its rows."""


_COLUMN = {"amount": "Debit", "account": "CompteNum", "label": "EcritureLib",
           "party": "CompAuxLib", "reference": "PieceRef"}  # fmt: skip


class EntryPlanner:
    """The row sink of the import (``append``/``clear``, see :class:`accounting.fec_check.RowSink`):
    plans each entry's costs when its last line has gone by, keeps the totals left aside, and
    the errors by line. Fed from a list grouped by entry (the second reading of an
    interleaved file), nothing calls ``on_interleaved``."""

    def __init__(
        self, session: Session, path: str | Path, rules: list[Rule], wanted_column: str | None,
    ) -> None:  # fmt: skip
        self.session, self.path, self.rules = session, path, rules
        self.wanted_column = wanted_column
        self.column: int | None = None
        self._rule_of: dict[tuple[str, str], Rule | None] = {}
        self._mapped: dict[str, str] = {}
        self._mapper = mapper(session)
        self._codes = {service.id: service.code for service in session.scalars(select(Service))}
        self._closed = _closed(session)
        self._locked = locked_ranges(session)  # invoiced periods (DESIGN §4)
        self._existing: set[str] = set()
        self._journals: dict[str, str] = {}
        #: Called with the costs planned so far once there are ``hand_on_at`` of them, which
        #: are then forgotten here (:mod:`imports.fec_beside`: the reader sends them on).
        self.on_costs: Callable[[list[PlannedCost]], None] | None = None
        self.hand_on_at = SLICE
        self.year: tuple[date, date] | None = None
        self._low = self._high = date.min  # the year's bounds, from the first line
        self.clear()

    def clear(self) -> None:
        """Start again: the file has an error (the reader refuses it) or is read again."""
        self.costs: list[PlannedCost] = []
        self.errors: list[RowError] = []
        #: Per (account, reason): [label, lines, debit, credit, first line].
        self.left: dict[tuple[str, str], list] = {}
        self._entry: list[FecRow] = []
        self._journal: str | None = None
        self._num: str | None = None
        #: The fingerprints of the entry's costs so far (two alike get an occurrence number).
        self._seen: Counter[str] = Counter()
        self._account_lines: dict[str, list[int]] = defaultdict(list)

    # -- the sink

    def header(self, scan: FecScan) -> None:
        """Called once the header is read (before the first row)."""
        self.columns(scan.extra_columns)

    def columns(self, extra: tuple[str, ...]) -> None:
        """The file's columns after the 18: find the analytic one."""
        self.column = analytic_column(extra, self.wanted_column)

    def on_interleaved(self, key: tuple[str, str]) -> None:
        """The reader saw the entry ``key`` again after another one."""
        raise Interleaved(key)

    def append(self, row: FecRow) -> None:
        # Called for every line of the file: the usual line costs two comparisons.
        if row.ecriture_num != self._num or row.journal_code != self._journal:
            self._next_entry(row)
        if not self._low <= row.ecriture_date <= self._high:
            self._outside(row)
        self._entry.append(row)

    def _next_entry(self, row: FecRow) -> None:
        if self._entry:
            self._end_entry(self._entry)
            self._entry = []
        self._journal, self._num = row.journal_code, row.ecriture_num
        if self.year is None:
            self._begin(row.ecriture_date)

    def _outside(self, row: FecRow) -> None:
        self.errors.append(RowError(row.line, "EcritureDate", (
            f"EcritureDate {row.ecriture_date:%d/%m/%Y} hors de l'exercice du "
            f"{self._low:%d/%m/%Y} au {self._high:%d/%m/%Y}."
        )))  # fmt: skip

    def end_entries(self) -> None:
        """Plan the last entry (the file has ended)."""
        if self._entry:
            self._end_entry(self._entry)
            self._entry = []

    def finish(self) -> list[RowError]:
        """End the last entry; every error found, accounts the chart does not know included."""
        self.end_entries()
        if self.year is None:
            self._begin(None)
        unknown = unknown_accounts(self.session, set(self._account_lines))
        for account in unknown:
            self.errors.extend(RowError(line, "CompteNum", (
                f"Compte {account} inconnu du plan comptable de la structure : ajoutez-le "
                "(Comptabilité › Plan comptable) ou une correspondance de comptes."
            )) for line in self._account_lines[account])  # fmt: skip
        return self.errors

    def left_aside(self) -> list[LeftAside]:
        return [
            LeftAside(account, label, count, debit, credit, reason, first)
            for (account, reason), (label, count, debit, credit, first) in sorted(
                self.left.items(), key=lambda item: (item[0][1] != UNMAPPED, item[0][0]))
        ]  # fmt: skip

    def begin(self, first: date | None) -> None:
        """Set the fiscal year from the file's first line (a reader that hands over only some
        of the lines: :mod:`imports.fec_fast`)."""
        if self.year is None:
            self._begin(first)

    def maps(self, account: str, analytic: str) -> bool:
        """A rule maps a line of ``account`` (and that analytic code) to a service."""
        return self._rule_of_key((account, analytic)) is not None

    def leave_aside(
        self, account: str, reason: str, label: str, lines: int, debit: Decimal,
        credit: Decimal, first: int,
    ) -> None:  # fmt: skip
        """Add lines a reader summed itself to those left aside: the label kept is the one
        of the account's first line in the file, as when the lines come one by one."""
        stats = self.left.get((account, reason))
        if stats is None:
            self.left[(account, reason)] = [label, lines, debit, credit, first]
            return
        if first < stats[4]:
            stats[0], stats[4] = label, first
        stats[1] += lines
        stats[2] += debit
        stats[3] += credit

    # -- each entry

    def _begin(self, first: date | None) -> None:
        self.year = self._low, self._high = fiscal_year(self.session, self.path, first)
        self._existing = existing_keys(self.session, *self.year)

    def _canonical(self, number: str) -> str:
        found = self._mapped.get(number)
        if found is None:
            found = self._mapped[number] = self._mapper(number)
        return found

    def _rule_for(self, row: FecRow) -> Rule | None:
        return self._rule_of_key(
            (row.compte_num, row.extra[self.column] if self.column is not None else "")
        )

    def _rule_of_key(self, key: tuple[str, str]) -> Rule | None:
        found = self._rule_of.get(key, False)
        if found is False:
            found = self._rule_of[key] = next((r for r in self.rules if r.matches(*key)), None)
        return found  # type: ignore[return-value]

    def _leave(self, row: FecRow, reason: str) -> None:
        stats = self.left.get((row.compte_num, reason))
        if stats is None:
            self.left[(row.compte_num, reason)] = [row.compte_lib, 1, row.debit, row.credit,
                                                   row.line]  # fmt: skip
            return
        stats[1] += 1
        stats[2] += row.debit
        stats[3] += row.credit
        stats[4] = min(stats[4], row.line)

    def _end_entry(self, rows: list[FecRow]) -> None:
        """Plan the entry's costs (one per account and service), or leave its lines aside."""
        if not any(row.compte_num[:1] in "67" for row in rows):
            left = self.left  # most entries of a year (sales, bank): the quick way
            for row in rows:
                stats = left.get((row.compte_num, BALANCE_SHEET))
                if stats is None:
                    left[(row.compte_num, BALANCE_SHEET)] = [
                        row.compte_lib, 1, row.debit, row.credit, row.line]  # fmt: skip
                else:
                    stats[1] += 1
                    stats[2] += row.debit
                    stats[3] += row.credit
                    if row.line < stats[4]:
                        stats[4] = row.line
            return
        groups: dict[tuple[str, int], list] = {}
        sheet: list[FecRow] = []
        unmapped: list[FecRow] = []
        for row in rows:
            if row.compte_num[:1] not in "67":
                sheet.append(row)
                continue
            rule = self._rule_for(row)
            if rule is None:
                unmapped.append(row)
                continue
            group = groups.get((self._canonical(row.compte_num), rule.service_id))
            if group is None:
                groups[(self._canonical(row.compte_num), rule.service_id)] = [
                    row, row.debit, row.credit]  # fmt: skip
            else:
                group[1] += row.debit
                group[2] += row.credit
        if not groups:  # nothing imported
            for row in rows:
                self._leave(row, UNMAPPED if row.compte_num[:1] in "67" else BALANCE_SHEET)
            return
        for row in unmapped:
            self._leave(row, UNMAPPED)
        party = next((r.comp_aux_lib or r.compte_lib for r in rows
                      if r.compte_num.startswith("40")), "")  # fmt: skip
        self._seen.clear()  # a fingerprint names its entry: alike only inside one
        # Lines that cancel out inside the entry change no cost: not planned.
        kept = [(key, group) for key, group in groups.items() if group[1] != group[2]]
        shares = split_costs([debit - credit for _, (_, debit, credit) in kept],
                             _counterparts(sheet, self._canonical), SUSPENSE)  # fmt: skip
        for ((account, service_id), (first, debit, credit)), split in zip(kept, shares,
                                                                          strict=True):
            self._plan(first, debit, credit, account, service_id, split, party)

    def _plan(
        self, first: FecRow, debit: Decimal, credit: Decimal, account: str, service_id: int,
        split: list[Share], party: str,
    ) -> None:  # fmt: skip
        """One ``PlannedCost``, and its errors (bad cost, closed or invoiced period).
        ``split``: its shares of the entry's counterparts, debit − credit."""
        kind = CostKind.COST if account.startswith("6") else CostKind.SUBSIDY
        amount = _difference(debit, credit) if kind is CostKind.COST else credit - debit
        if kind is CostKind.SUBSIDY:  # a subsidy's shares, as its amount, are credit − debit
            split = [Share(share.account, -share.amount) for share in split]
        # The counterpart shown: the largest share the line's own way (401, not its VAT).
        counterpart = max(split, key=lambda share: share.amount * ONE.copy_sign(amount)).account
        several = tuple(split) if len(split) > 1 else ()
        journal = self._journals.get(first.journal_code)
        if journal is None:  # one text per journal (100 000 costs held: issue 16)
            journal = _CODE.sub("", first.journal_code.upper())[:10] or "HA"
            self._journals[first.journal_code] = journal
        data = CostInput(
            kind=kind, service_id=service_id, day=first.ecriture_date, amount=amount,
            account=account, label=(first.ecriture_lib or first.compte_lib)[:300],
            party=party[:200], reference=first.piece_ref[:100], nature=CostNature.FEC,
            journal_code=journal, counterpart=counterpart, counterparts=several,
        )  # fmt: skip
        for problem, message in check_cost_input(data):
            self.errors.append(RowError(first.line, _COLUMN.get(problem, problem), message))
        self._account_lines[account].append(first.line)
        for period_start, period_end, label in self._closed:
            if period_start <= data.day <= period_end:
                self.errors.append(RowError(first.line, "EcritureDate", (
                    f"La période {label} est clôturée : le {data.day:%d/%m/%Y} est en "
                    "lecture seule."
                )))  # fmt: skip
                break
        for start, end, label in self._locked:
            if start <= data.day <= end:
                self.errors.append(RowError(first.line, "EcritureDate",
                                            locked_message(data.day, label)))  # fmt: skip
                break
        probe = fingerprint(first, account, kind.value, amount, 0)
        occurrence = self._seen[probe]
        key = fingerprint(first, account, kind.value, amount, occurrence) if occurrence else probe
        self._seen[probe] = occurrence + 1
        self.costs.append(PlannedCost(
            first.line, data, self._codes[service_id], bytes.fromhex(key), key in self._existing,
            debit,
            credit, f"{first.journal_code}/{first.ecriture_num}",
        ))  # fmt: skip
        if self.on_costs is not None and len(self.costs) >= self.hand_on_at:
            self.on_costs(self.costs)
            self.costs = []
