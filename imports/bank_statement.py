"""Reading a bank statement (CSV or XLSX) for the bank reconciliation.

Columns (English or French, case and accents ignored): Date, and either Montant (signed:
money in positive) or Débit and Crédit (as the bank prints them: a débit is money out);
Libellé optional. Every bad row is named with its line and column; nothing is partly read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from accounting.ledger.bank import BankMovement
from imports.errors import ErrorList
from imports.parsing import parse_date, parse_decimal
from imports.tabular import map_columns, read_table_file

COLUMNS = {
    "date": ["Date", "Date opération", "Date de l'opération", "Date valeur"],
    "amount": ["Montant", "Montant (EUR)"],
    "debit": ["Débit"],
    "credit": ["Crédit"],
    "label": ["Libellé", "Libelle", "Description"],
}


def read_statement(path: str | Path) -> list[BankMovement]:
    table = read_table_file(path)
    columns = map_columns(table.header, COLUMNS, optional=("amount", "debit", "credit", "label"),
                          allow_unknown=True, header_line=table.header_line)  # fmt: skip
    errors = ErrorList()
    if "amount" not in columns and not ("debit" in columns and "credit" in columns):
        errors.add(table.header_line, None,
                   "Il faut une colonne « Montant » (signé) ou « Débit » et « Crédit ».")
        errors.raise_if_any()
    label = columns.label
    movements: list[BankMovement] = []
    for row in table:
        day = errors.parse(row.line, label("date"), parse_date, row.get(columns.get("date")))
        if "amount" in columns:
            amount = errors.parse(row.line, label("amount"), parse_decimal,
                                  row.get(columns.get("amount")), max_places=2)  # fmt: skip
        else:
            out = row.get(columns.get("debit")) or "0"
            into = row.get(columns.get("credit")) or "0"
            spent = errors.parse(row.line, label("debit"), parse_decimal, out, max_places=2)
            got = errors.parse(row.line, label("credit"), parse_decimal, into, max_places=2)
            amount = None if spent is None or got is None else got - abs(spent)
        if day is not None and amount is not None:
            movements.append(BankMovement(day, Decimal(amount), row.get(columns.get("label")),
                                          f"ligne {row.line}"))  # fmt: skip
    errors.raise_if_any()
    return movements
