"""Importing the costs and subsidies of the shared services from a CSV or XLSX file.

Columns (English or French headers, matched without case or accents): ``date, service, kind,
amount, account, label, party, reference`` or Date, Service, Nature, Montant, Compte, Libellé,
Tiers, Référence (party, reference and attachment are optional), and optionally Type de
charge (paie, fournisseur, autre: how the cost is posted; empty: a supplier invoice) and Code
fournisseur (its account is 401 + code). Nature is ``cost``/``charge``
or ``subsidy``/``subvention``; amounts accept ``1 234,56`` and ``1234.56``.

Invariants (as every importer): every row is checked before anything is written and one bad
cell refuses the file, naming each bad row and column; a row dated in a closed period is a bad
row; importing the same file twice adds nothing — each line gets a fingerprint of its content
(the n-th identical line of a file its own), kept in ``import_key``, and lines whose fingerprint
exists are skipped. The rules of a line are those of :func:`accounting.costs.check_cost_input`,
shared with the screen.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.costs import (
    DEFAULT_ACCOUNT,
    MODELS,
    CostInput,
    CostKind,
    CostNature,
    add_cost,
    check_cost_input,
)
from accounting.db import transaction_lock
from accounting.ledger.posting import sealed_in_one_batch
from accounting.org import Service
from accounting.periods import (
    Period,
    PeriodStatus,
    hold_periods,
    locked_message,
    locked_ranges,
)
from imports.errors import ErrorList, InvalidValue
from imports.members import ImportResult
from imports.parsing import parse_date, parse_decimal
from imports.tabular import Table, map_columns, normalize_header

COST_COLUMNS: dict[str, list[str]] = {
    "date": ["Date"],
    "service": ["Service", "Code service"],
    "kind": ["Nature", "Type"],
    "amount": ["Montant", "Montant HT"],
    "account": ["Compte", "Compte PCG"],
    "label": ["Libellé", "Libelle"],
    "party": ["Tiers", "Fournisseur", "Financeur"],
    "reference": ["Référence", "Reference", "N° de pièce"],
    "attachment": ["Pièce jointe", "Justificatif"],
    "posting": ["Type de charge", "Comptabilisation"],
    "supplier_code": ["Code fournisseur"],
}
OPTIONAL_COLUMNS = frozenset({"party", "reference", "attachment", "posting", "supplier_code"})
#: « Type de charge »: how a cost is posted (README « Ledger »); empty: a supplier invoice.
_NATURES = {
    "paie": CostNature.PAYROLL, "payroll": CostNature.PAYROLL, "salaire": CostNature.PAYROLL,
    "fournisseur": CostNature.SUPPLIER_INVOICE, "facturefournisseur": CostNature.SUPPLIER_INVOICE,
    "supplierinvoice": CostNature.SUPPLIER_INVOICE, "autre": CostNature.OTHER,
    "other": CostNature.OTHER,
}

_KINDS = {
    "cost": CostKind.COST, "costs": CostKind.COST, "charge": CostKind.COST,
    "charges": CostKind.COST, "depense": CostKind.COST,
    "subsidy": CostKind.SUBSIDY, "subsidies": CostKind.SUBSIDY,
    "subvention": CostKind.SUBSIDY, "subventions": CostKind.SUBSIDY, "aide": CostKind.SUBSIDY,
}
_FIELD_COLUMN = {
    "amount": "amount", "account": "account", "label": "label", "party": "party",
    "reference": "reference", "attachment_name": "attachment",
}


def parse_nature(value: object) -> CostNature:
    text = normalize_header(str(value or "")).replace(" ", "")
    if not text:
        return CostNature.SUPPLIER_INVOICE
    if text not in _NATURES:
        raise InvalidValue(f"Type de charge « {value} » inconnu : paie, fournisseur ou autre.")
    return _NATURES[text]


class InvalidKind(InvalidValue):
    """A « Nature » cell that is neither a cost nor a subsidy."""


def parse_kind(value: object) -> CostKind:
    text = normalize_header(str(value or ""))
    if text not in _KINDS:
        raise InvalidKind(
            f"Nature « {str(value or '').strip()} » inconnue : écrivez charge (cost) ou "
            "subvention (subsidy)."
        )
    return _KINDS[text]


def parse_amount_cell(value: object) -> object:
    return parse_decimal(value, max_places=2, allow_negative=False)


@dataclass(frozen=True, slots=True)
class CostRow:
    line: int
    data: CostInput
    import_key: str


def _fingerprint(data: CostInput, service_code: str, occurrence: int) -> str:
    parts = [
        data.kind.value, service_code, data.day.isoformat(), str(data.amount), data.account,
        data.label, data.party, data.reference, data.attachment_name, str(occurrence),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _closed_periods(session: Session) -> list[tuple[date, date, str]]:
    hold_periods(session)  # no period closes until this import commits or rolls back
    rows = session.scalars(select(Period).where(Period.status == PeriodStatus.CLOSED.value))
    return [(p.start, p.end, p.label) for p in rows]


def check_costs(session: Session, table: Table) -> list[CostRow]:
    """Every row parsed and checked; raises ``ImportRefused`` listing every error."""
    columns = map_columns(
        table.header, COST_COLUMNS, optional=OPTIONAL_COLUMNS, header_line=table.header_line
    )
    services = {
        code.upper(): (sid, code)
        for sid, code in session.execute(select(Service.id, Service.code))
    }
    names = {
        normalize_header(name): (sid, code)
        for sid, code, name in session.execute(select(Service.id, Service.code, Service.name))
    }
    closed = _closed_periods(session)
    locked = locked_ranges(session)  # invoiced periods (DESIGN §4)
    errors = ErrorList()
    seen: Counter[str] = Counter()
    rows: list[CostRow] = []
    for row in table:
        label = columns.label
        day = errors.parse(row.line, label("date"), parse_date, row[columns["date"]])
        kind = errors.parse(row.line, label("kind"), parse_kind, row[columns["kind"]])
        amount = errors.parse(row.line, label("amount"), parse_amount_cell, row[columns["amount"]])
        service_text = row[columns["service"]].strip()
        service = services.get(service_text.upper()) or names.get(normalize_header(service_text))
        if service is None:
            errors.add(
                row.line, label("service"),
                f"Service « {service_text} » inconnu." if service_text else "Service manquant.",
            )
        if day is not None:
            for start, end, period_label in closed:
                if start <= day <= end:
                    errors.add(
                        row.line, label("date"),
                        f"La période {period_label} est clôturée : le {day:%d/%m/%Y} est en "
                        "lecture seule.",
                    )
                    break
            for start, end, period_label in locked:
                if start <= day <= end:
                    errors.add(row.line, label("date"), locked_message(day, period_label))
                    break
        nature = errors.parse(row.line, label("posting"), parse_nature,
                              row.get(columns.get("posting")))  # fmt: skip
        if day is None or kind is None or amount is None or service is None or nature is None:
            continue
        account = row[columns["account"]].strip() or DEFAULT_ACCOUNT.get(kind, "")
        data = CostInput(
            kind=kind,
            service_id=service[0],
            day=day,
            amount=amount,  # type: ignore[arg-type]
            account=account,
            label=row[columns["label"]].strip(),
            party=row.get(columns.get("party")).strip(),
            reference=row.get(columns.get("reference")).strip(),
            attachment_name=row.get(columns.get("attachment")).strip(),
            nature=nature if kind is CostKind.COST else CostNature.SUPPLIER_INVOICE,
            supplier_code=row.get(columns.get("supplier_code")).strip().upper()
            if nature is CostNature.SUPPLIER_INVOICE else "",
        )
        problems = check_cost_input(data)
        for field, message in problems:
            errors.add(row.line, label(_FIELD_COLUMN[field]), message)
        if problems:
            continue
        probe = _fingerprint(data, service[1], 0)
        seen[probe] += 1
        rows.append(CostRow(row.line, data, _fingerprint(data, service[1], seen[probe] - 1)))
    errors.raise_if_any()
    return rows


def import_costs(session: Session, table: Table, *, user_id: int | None = None) -> ImportResult:
    """Add the costs and subsidies of a file (all-or-nothing; the lines already imported are
    skipped). Flushes; the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:costs")
    rows = check_costs(session, table)
    keys = [r.import_key for r in rows]
    existing: set[str] = set()
    for model in MODELS.values():
        for start in range(0, len(keys), 500):
            existing.update(
                session.scalars(
                    select(model.import_key).where(model.import_key.in_(keys[start : start + 500]))
                )
            )
    added = Counter[CostKind]()
    with sealed_in_one_batch(session):  # the entries' seals in one batch (hash chain)
        for row in rows:
            if row.import_key in existing:
                continue
            add_cost(session, row.data, user_id=user_id, import_key=row.import_key)
            added[row.data.kind] += 1
    result = ImportResult(created=sum(added.values()), unchanged=len(rows) - sum(added.values()))
    if result.changed:
        record_audit(
            session, "import", "costs",
            after={"file": table.filename, "costs": added[CostKind.COST],
                   "subsidies": added[CostKind.SUBSIDY], "skipped": result.unchanged},
        )
        session.flush()
    return result


def count_lines(session: Session) -> int:
    """Costs and subsidies stored (for tests and the import screen)."""
    return sum(
        session.scalar(select(func.count()).select_from(model)) or 0 for model in MODELS.values()
    )
