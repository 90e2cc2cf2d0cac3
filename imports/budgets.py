"""Budget import: a CSV or XLSX of expected costs and subsidies, read into budget lines per
service, all or nothing (every wrong row and column named, in French, nothing written).

Columns (French or English headers, case and accents ignored): ``Service`` (service code),
``Type`` (charge / subvention), ``Compte``, ``Libellé`` (optional), ``Montant``. One file may
hold the lines of several services; each service named gets a new revision of its budget.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.budgets.budgets import LineInput
from accounting.budgets.models import LineKind
from accounting.org import Service
from imports.errors import ErrorList
from imports.parsing import parse_decimal
from imports.tabular import Table, map_columns, normalize_header, read_table

COLUMNS = {
    "service": ["Service", "Code service"],
    "kind": ["Type", "Nature", "Kind"],
    "account": ["Compte", "N° de compte", "Account"],
    "label": ["Libellé", "Intitulé", "Label"],
    "amount": ["Montant", "Montant annuel", "Amount"],
}
_KINDS = {
    normalize_header(word): kind
    for kind, words in {LineKind.COST: ["charge", "dépense", "cost"],
                        LineKind.SUBSIDY: ["subvention", "produit", "subsidy"]}.items()
    for word in words
}


def read_budget_lines(session: Session, data: bytes, filename: str) -> dict[int, list[LineInput]]:
    """service id → its lines, in the file's order; ``ImportRefused`` lists every error."""
    return budget_lines(session, read_table(data, filename))


def budget_lines(session: Session, table: Table) -> dict[int, list[LineInput]]:
    cols = map_columns(table.header, COLUMNS, optional=("label",), header_line=table.header_line)
    services = {s.code.upper(): s for s in session.scalars(select(Service))}
    errors = ErrorList()
    result: dict[int, list[LineInput]] = defaultdict(list)
    for row in table.rows:
        code = row[cols["service"]].strip().upper()
        service = services.get(code)
        if service is None:
            errors.add(row.line, cols.label("service"),
                       f"service « {row[cols['service']]} » inconnu"
                       + (f" (services : {', '.join(sorted(services))})" if services else ""))
        kind = _KINDS.get(normalize_header(row[cols["kind"]]))
        if kind is None:
            errors.add(row.line, cols.label("kind"),
                       f"« {row[cols['kind']]} » : écrivez « charge » ou « subvention »")
        account = row[cols["account"]].strip()
        if not account.isdigit():
            errors.add(row.line, cols.label("account"),
                       f"compte « {account} » : un numéro du plan comptable (chiffres) est attendu")
        amount = errors.parse(row.line, cols.label("amount"), parse_decimal, row[cols["amount"]],
                              max_places=2, allow_negative=False)
        if service is not None and kind is not None and amount is not None and account.isdigit():
            result[service.id].append(LineInput(kind, account, amount, row.get(cols.get("label"))))
    if not table.rows:
        errors.add(None, None, "Le fichier ne contient aucune ligne de budget.")
    errors.raise_if_any()
    return dict(result)
