"""The carrier's costs from its FEC: lines of class 6 (and 7 for subsidies) mapped to services.

The admin says which lines feed which shared service, by account (``64*`` → the development
officer, ``6226`` → accounting) or by analytic code (an extra column after the 18, e.g.
« CodeAnalytique »); the rules are saved (``FecCostRule``) and applied again next time. For each
entry, the lines of one account mapped to one service are summed: a cost for a debit, a subsidy
for a credit on a class 7 account; the supplier is read from the entry's 40x line.

Invariants (as every importer): the file is read and checked entirely first (``read_fec``:
unbalanced or malformed files are refused with every error by line); a cost dated in a closed
period refuses the whole file; importing the same file twice adds nothing (each cost keeps a
fingerprint of its entry, account and amount in ``import_key``), and a later FEC of the same
year adds only the new entries. Lines no rule maps are listed, not imported.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.costs import MODELS, CostInput, CostKind, add_cost, check_cost_input
from accounting.db import transaction_lock
from accounting.fec import FecRow
from accounting.fec_check import FecIssue
from accounting.ledger.errors import MappingError
from accounting.ledger.models import FecCostRule
from accounting.ledger.posting import sealed_in_one_batch
from accounting.money import ZERO
from accounting.org import Service
from accounting.periods import (
    Period,
    PeriodStatus,
    hold_periods,
    locked_message,
    locked_ranges,
)
from imports.errors import ImportRefused, RowError
from imports.fec import read_fec
from imports.members import ImportResult

ACCOUNT, ANALYTIC = "account", "analytic"
#: Names of an extra column that holds analytic codes (lower case, without accents).
ANALYTIC_NAMES = ("analytique", "codeanalytique", "code analytique", "analytic", "section",
                  "axe", "axe1", "axe analytique", "codeana", "ana")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    """``kind`` account (``pattern`` on CompteNum, ``*`` wildcard) or analytic (a code)."""

    kind: str
    pattern: str
    service_id: int

    def matches(self, account: str, analytic: str) -> bool:
        if self.kind == ANALYTIC:
            return bool(analytic) and analytic.upper() == self.pattern.upper()
        return fnmatch.fnmatchcase(account.upper(), self.pattern.upper())


@dataclass(frozen=True, slots=True)
class PlannedCost:
    """A cost or subsidy the import would add (``already``: imported before, skipped)."""

    line: int
    data: CostInput
    service_code: str
    import_key: str
    already: bool


@dataclass(frozen=True, slots=True)
class Unmapped:
    """Class 6 / 7 lines of one account no rule maps (shown so the admin can map them)."""

    account: str
    label: str
    lines: int
    debit: Decimal
    credit: Decimal


@dataclass
class FecCostPreview:
    """What importing the file would do; nothing is written."""

    costs: list[PlannedCost] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    #: Entries whose mapped lines net to the wrong side (a refund larger than the cost).
    skipped: list[RowError] = field(default_factory=list)
    warnings: list[FecIssue] = field(default_factory=list)
    analytic_column: str | None = None
    extra_columns: tuple[str, ...] = ()

    @property
    def new(self) -> list[PlannedCost]:
        return [cost for cost in self.costs if not cost.already]

    def totals_by_service(self) -> dict[str, dict[str, Decimal]]:
        """Σ of the new costs and subsidies per service code."""
        totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        for cost in self.new:
            totals[cost.service_code][cost.data.kind.value] += cost.data.amount
        return {code: dict(kinds) for code, kinds in sorted(totals.items())}


# ------------------------------------------------------------------ rules


def parse_rule(session: Session, text: str) -> Rule:
    """``64*=DEV`` (account pattern) or ``analytique:ACP=COMPTA`` (analytic code) -> Rule."""
    left, sep, service_code = text.partition("=")
    if not sep or not left.strip() or not service_code.strip():
        raise MappingError(
            f"Règle « {text} » illisible : écrivez 64*=CODE_SERVICE ou analytique:CODE=SERVICE."
        )
    kind, pattern = ACCOUNT, left.strip()
    for prefix in ("analytique:", "analytic:"):
        if pattern.lower().startswith(prefix):
            kind, pattern = ANALYTIC, pattern[len(prefix):].strip()
    return make_rule(session, kind, pattern, service_code.strip())


def make_rule(session: Session, kind: str, pattern: str, service_code: str) -> Rule:
    service = session.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    if service is None:
        known = ", ".join(session.scalars(select(Service.code).order_by(Service.code)))
        raise MappingError(f"Service « {service_code} » inconnu (codes des services : {known}).")
    pattern = pattern.strip()
    if kind not in (ACCOUNT, ANALYTIC) or not pattern or len(pattern) > 50:
        raise MappingError(f"Règle « {pattern} » refusée.")
    if kind == ACCOUNT and not pattern[:1].isdigit():
        raise MappingError(
            f"Motif de compte « {pattern} » refusé : il commence par un chiffre (ex. 64*, 6226)."
        )
    return Rule(kind, pattern, service.id)


def saved_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(FecCostRule).order_by(FecCostRule.position, FecCostRule.id))
    return [Rule(row.kind, row.pattern, row.service_id) for row in rows]


def save_rules(session: Session, rules: Sequence[Rule]) -> None:
    """Keep ``rules`` for next time: the same (kind, pattern) is updated, others added, rules no
    longer given are removed (each change audited by the session hook). Flushes."""
    existing = {(row.kind, row.pattern): row for row in session.scalars(select(FecCostRule))}
    wanted = {(rule.kind, rule.pattern) for rule in rules}
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
    for position, rule in enumerate(rules):
        row = existing.get((rule.kind, rule.pattern))
        if row is None:
            session.add(FecCostRule(kind=rule.kind, pattern=rule.pattern,
                                    service_id=rule.service_id, position=position))  # fmt: skip
        else:
            row.service_id, row.position = rule.service_id, position
    session.flush()


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Analytic codes first, then account patterns from the most specific (longest fixed
    prefix) to the broadest; the given order breaks ties."""
    indexed = list(enumerate(rules))

    def key(item: tuple[int, Rule]) -> tuple[int, int, int]:
        position, rule = item
        fixed = len(rule.pattern.split("*")[0].split("?")[0])
        return (0 if rule.kind == ANALYTIC else 1, -fixed, position)

    return [rule for _, rule in sorted(indexed, key=key)]


# ------------------------------------------------------------------ preview and import


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


def preview_fec_costs(
    session: Session, path: str | Path, rules: Sequence[Rule] | None = None, *,
    analytic_column: str | None = None,
) -> FecCostPreview:  # fmt: skip
    """Read the FEC at ``path`` and say what importing it with ``rules`` (default: the saved
    ones) would add. Raises ``ImportRefused`` (every error by line) for a malformed or
    unbalanced file, a line that would make a bad cost, or a cost in a closed period."""
    rules = ordered(saved_rules(session) if rules is None else rules)
    if not rules:
        raise MappingError(
            "Aucune règle d'affectation : indiquez quels comptes (ex. 64* → chargé de "
            "développement) ou quels codes analytiques vont à quel service."
        )
    fec = read_fec(path)
    preview = FecCostPreview(warnings=fec.warnings, extra_columns=fec.extra_columns)
    column = _analytic_column(fec.extra_columns, analytic_column)
    preview.analytic_column = fec.extra_columns[column] if column is not None else None
    codes = {service.id: service.code for service in session.scalars(select(Service))}

    # Group the lines of each entry: suppliers (40x) and the mapped class 6/7 lines.
    entries: dict[tuple[str, str], list[FecRow]] = defaultdict(list)
    for row in fec.rows:
        entries[(row.journal_code, row.ecriture_num)].append(row)
    unmapped: dict[str, list] = {}
    errors: list[RowError] = []
    closed = _closed(session)
    locked = locked_ranges(session)  # invoiced periods (DESIGN §4)
    seen: Counter[str] = Counter()
    for rows in entries.values():
        party = next((r.comp_aux_lib or r.compte_lib for r in rows
                      if r.compte_num.startswith("40")), "")  # fmt: skip
        groups = _mapped_groups(rows, rules, column, unmapped)
        for (account, service_id), lines in groups.items():
            planned = _planned_cost(preview, errors, closed, account, service_id, lines, party)
            if planned is not None:
                data, first, kind, amount = planned
                for start, end, label in locked:  # invoiced periods (DESIGN §4)
                    if start <= data.day <= end:
                        errors.append(RowError(
                            first.line, "EcritureDate", locked_message(data.day, label)
                        ))  # fmt: skip
                        break
                probe = fingerprint(first, account, kind.value, amount, 0)
                key = fingerprint(first, account, kind.value, amount, seen[probe])
                seen[probe] += 1
                preview.costs.append(PlannedCost(first.line, data, codes[service_id], key, False))
    if errors:
        raise ImportRefused(errors)
    preview.unmapped = [
        Unmapped(account, label, count, debit, credit)
        for account, (label, count, debit, credit) in sorted(unmapped.items())
    ]
    existing = _existing_keys(session, [cost.import_key for cost in preview.costs])
    preview.costs = [
        PlannedCost(c.line, c.data, c.service_code, c.import_key, c.import_key in existing)
        for c in preview.costs
    ]
    return preview


def _mapped_groups(
    rows: list[FecRow], rules: Sequence[Rule], column: int | None, unmapped: dict[str, list]
) -> dict[tuple[str, int], list[FecRow]]:
    """An entry's class 6/7 lines grouped by (account, service of the first rule that maps
    them); the lines no rule maps are counted in ``unmapped`` per account."""
    groups: dict[tuple[str, int], list[FecRow]] = defaultdict(list)
    for row in rows:
        if row.compte_num[:1] not in "67":
            continue
        analytic = row.extra[column] if column is not None else ""
        rule = next((r for r in rules if r.matches(row.compte_num, analytic)), None)
        if rule is None:
            stats = unmapped.setdefault(row.compte_num, [row.compte_lib, 0, ZERO, ZERO])
            stats[1] += 1
            stats[2] += row.debit
            stats[3] += row.credit
            continue
        groups[(row.compte_num, rule.service_id)].append(row)
    return groups


def _planned_cost(
    preview: FecCostPreview,
    errors: list[RowError],
    closed: list[tuple[date, date, str]],
    account: str,
    service_id: int,
    lines: list[FecRow],
    party: str,
) -> tuple[CostInput, FecRow, CostKind, Decimal] | None:
    """The cost or subsidy of one group (its net amount), its problems added to ``errors``;
    None when the net is not positive (said in ``preview.skipped``)."""
    first = lines[0]
    net = sum((r.debit - r.credit for r in lines), ZERO)
    kind = CostKind.COST if account.startswith("6") else CostKind.SUBSIDY
    amount = net if kind is CostKind.COST else -net
    if amount <= ZERO:
        what = "un avoir plus grand que la charge" if kind is CostKind.COST else (
            "un débit plus grand que la subvention")  # fmt: skip
        preview.skipped.append(RowError(
            first.line, "CompteNum",
            f"Écriture {first.journal_code}/{first.ecriture_num}, compte {account} : "
            f"{what} ({amount} €) ; non importé.",
        ))  # fmt: skip
        return None
    data = CostInput(
        kind=kind, service_id=service_id, day=first.ecriture_date, amount=amount,
        account=account, label=(first.ecriture_lib or first.compte_lib)[:300],
        party=party[:200], reference=first.piece_ref[:100],
    )  # fmt: skip
    for problem, message in check_cost_input(data):
        errors.append(RowError(first.line, _COLUMN.get(problem, problem), message))
    for start, end, label in closed:
        if start <= data.day <= end:
            errors.append(RowError(
                first.line, "EcritureDate",
                f"La période {label} est clôturée : le {data.day:%d/%m/%Y} est en "
                "lecture seule.",
            ))  # fmt: skip
            break
    return data, first, kind, amount


_COLUMN = {"amount": "Debit", "account": "CompteNum", "label": "EcritureLib",
           "party": "CompAuxLib", "reference": "PieceRef"}  # fmt: skip


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for model in MODELS.values():
        for start in range(0, len(keys), 500):
            found.update(session.scalars(
                select(model.import_key).where(model.import_key.in_(keys[start : start + 500]))
            ))  # fmt: skip
    return found


def import_fec_costs(
    session: Session, path: str | Path, rules: Sequence[Rule] | None = None, *,
    analytic_column: str | None = None, save: bool = True, user_id: int | None = None,
) -> tuple[ImportResult, FecCostPreview]:  # fmt: skip
    """Add the costs and subsidies of the carrier's FEC at ``path`` (all-or-nothing; what was
    imported before is skipped); ``rules`` given are saved for next time when ``save``.
    Each cost posts its journal entry. Flushes; the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:costs")
    preview = preview_fec_costs(session, path, rules, analytic_column=analytic_column)
    if rules is not None and save:
        save_rules(session, list(rules))
    added = Counter[str]()
    with sealed_in_one_batch(session):  # the entries' seals in one batch (hash chain)
        for cost in preview.new:
            add_cost(session, cost.data, user_id=user_id, import_key=cost.import_key)
            added[cost.data.kind.value] += 1
    created = sum(added.values())
    result = ImportResult(created=created, unchanged=len(preview.costs) - created)
    if result.changed:
        record_audit(
            session, "import", "costs",
            after={"file": Path(path).name, "source": "fec", "costs": added["cost"],
                   "subsidies": added["subsidy"], "skipped": result.unchanged},
        )  # fmt: skip
        session.flush()
    return result, preview
