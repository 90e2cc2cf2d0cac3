"""The ledger workbook of a date range: « Journal », « Grand livre », « Balance » (and the
member-side entries workbook, :func:`write_member_workbook`).

* Journal: every line in validation order (entry, date, journal, piece, account, member,
  label, debit, credit), then the totals;
* Grand livre: account by account, the opening balance, the lines by date with the running
  balance, a subtotal per account, then the grand total;
* Balance: the trial balance (opening debit and credit, debit, credit, closing debit and
  credit balances per account), totals.

Opening balances follow :mod:`accounting.ledger.opening`, the rule of the FEC's opening entry:
classes 6 and 7 start at zero with each exercice, the previous result stands on 110 / 119.

Debits equal credits on every sheet (each total row says so).

Design: openpyxl's write-only mode with lxml, rows streamed from the database (two passes:
validation order, then account order), so a million lines never sit in memory. Styled cells
(dates, amounts, bold totals) are a few template cells whose value changes row after row:
write-only mode serialises each row as soon as it is appended, so one template per column
costs what a plain value costs. Text a user typed goes through
:mod:`accounting.workbooks.cells` when it would start a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from accounting.fec import FecLine
from accounting.ledger.reports import (
    BalanceRow,
    LedgerRow,
    iter_general_ledger,
    iter_journal,
    totals,
    trial_balance,
)
from accounting.money import ZERO
from accounting.workbooks.cells import starts_formula, text_cell
from accounting.workbooks.printing import row_height, set_row_height, setup_page

AMOUNT = "#,##0.00"
DATE = "DD/MM/YYYY"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_WRAP = Alignment(wrap_text=True, vertical="bottom")

JOURNAL = "Journal"
GENERAL_LEDGER = "Grand livre"
BALANCE = "Balance"

JOURNAL_HEADER = ("Date", "Journal", "N° d'écriture", "Pièce", "Compte", "Intitulé du compte",
                  "Adhérent", "Libellé", "Débit", "Crédit")  # fmt: skip
LEDGER_HEADER = ("Date", "Journal", "N° d'écriture", "Pièce", "Libellé", "Débit", "Crédit",
                 "Solde")  # fmt: skip
BALANCE_HEADER = ("Compte", "Intitulé", "Ouverture débit", "Ouverture crédit", "Débit", "Crédit",
                  "Solde débiteur", "Solde créditeur")  # fmt: skip


@dataclass(frozen=True, slots=True)
class LedgerWorkbookSummary:
    """What was written: line count and the totals each sheet shows."""

    lines: int
    total_debit: Decimal
    total_credit: Decimal
    accounts: int


class _Page:
    """A write-only sheet laid out for print: its column widths, the text columns that wrap,
    and the number of rows written (a wrapped row's height is set before the row is)."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: Sequence[float],
                 wrapped: Sequence[int] = ()) -> None:  # fmt: skip
        self.sheet = sheet
        self.widths = list(widths)
        self.wrapped = set(wrapped)
        self.rows = 0

    def append(self, row: list[Any], height: float | None = None) -> None:
        self.rows += 1
        set_row_height(self.sheet, self.rows, height)
        self.sheet.append(row)

    def blank(self) -> None:
        self.append([])


class _Rows:
    """Appends rows to a write-only sheet with per-column formats through template cells.

    ``formats`` gives, per column, a number format (dates, amounts) or None (plain value); the
    page's wrapped columns wrap, and a row whose text needs more lines gets their height.
    """

    def __init__(self, page: _Page, formats: Sequence[str | None],
                 bold: bool = False) -> None:  # fmt: skip
        self.page = page
        sheet = page.sheet
        self.templates: list[WriteOnlyCell | None] = []
        self.wrapped = {i for i in page.wrapped if i < len(formats)}
        for index, number_format in enumerate(formats):
            if number_format is None and not bold and index not in self.wrapped:
                self.templates.append(None)
                continue
            cell = WriteOnlyCell(sheet)
            if number_format:
                cell.number_format = number_format
            if bold:
                cell.font = _BOLD
            if index in self.wrapped:
                cell.alignment = _WRAP
            self.templates.append(cell)

    def _height(self, values: Sequence[Any]) -> float | None:
        widths = self.page.widths
        long = [(values[i], widths[i]) for i in self.wrapped if i < len(values)
                and isinstance(values[i], str) and len(values[i]) > widths[i] - 2]
        if not long:
            return None
        return row_height([v for v, _ in long], [w for _, w in long])

    def append(self, values: Sequence[Any]) -> None:
        row: list[Any] = []
        sheet = self.page.sheet
        for template, value in zip(self.templates, values, strict=False):
            if isinstance(value, str) and starts_formula(value):
                bold = template is not None and template.font.b
                row.append(text_cell(sheet, value, **({"font": _BOLD} if bold else {})))
            elif template is None or value is None:
                row.append(value)
            else:
                template.value = value
                row.append(template)
        self.page.append(row, self._height(values))


def _header(sheet: WriteOnlyWorksheet, names: Sequence[str], widths: Sequence[float],
            wrapped: Sequence[int] = ()) -> _Page:  # fmt: skip
    """Widths, print setup (A4 landscape, fit to width, header row on every page), the frozen
    and wrapped header row; returns the page to write the rows on."""
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    setup_page(sheet, title_rows=1)
    page = _Page(sheet, widths, wrapped)
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        cells.append(cell)
    page.append(cells, row_height(list(names), widths, bold=True))
    return page


def _journal_sheet(workbook: Workbook, rows: Iterable[LedgerRow]) -> tuple[int, Decimal, Decimal]:
    sheet = workbook.create_sheet(JOURNAL)
    page = _header(sheet, JOURNAL_HEADER, (11, 8, 14, 17, 10, 24, 10, 36, 13, 13), (5, 7))
    lines = _Rows(page, (DATE, None, None, None, None, None, None, None, AMOUNT, AMOUNT))
    debit = credit = ZERO
    count = 0
    for row in rows:
        lines.append((row.entry_date, row.journal_code, row.reference, row.piece_ref,
                      row.account, row.account_label, row.member_code, row.label,
                      row.debit or None, row.credit or None))  # fmt: skip
        debit += row.debit
        credit += row.credit
        count += 1
    total = _Rows(page, (None,) * 8 + (AMOUNT, AMOUNT), bold=True)
    page.blank()
    total.append(("Total", None, None, None, None, None, None,
                  "Débit = crédit" if debit == credit else "ÉCART", debit, credit))  # fmt: skip
    return count, debit, credit


def _ledger_sheet(
    workbook: Workbook, rows: Iterable[LedgerRow], openings: dict[str, Decimal],
    labels: dict[str, str],
) -> tuple[Decimal, Decimal]:  # fmt: skip
    """``openings``: every account's opening balance; ``labels``: those of the accounts with
    an opening balance and no line in the range (they get their block too, as on screen)."""
    sheet = workbook.create_sheet(GENERAL_LEDGER)
    page = _header(sheet, LEDGER_HEADER, (11, 8, 14, 17, 50, 13, 13, 14), (4,))
    lines = _Rows(page, (DATE, None, None, None, None, AMOUNT, AMOUNT, AMOUNT))
    bold = _Rows(page, (None, None, None, None, None, AMOUNT, AMOUNT, AMOUNT), bold=True)
    total_debit = total_credit = ZERO
    current: str | None = None
    debit = credit = balance = ZERO
    unmoved = sorted(labels)

    def open_account(account: str, label: str) -> None:
        nonlocal current, debit, credit, balance
        current = account
        debit = credit = ZERO
        balance = openings.get(account, ZERO)
        bold.append((account, None, None, None, label))
        if balance:
            lines.append((None, None, None, None, "Solde d'ouverture", None, None, balance))

    def close_account() -> None:
        bold.append((None, None, None, None, f"Total {current}", debit, credit, balance))
        page.blank()

    def unmoved_before(account: str | None) -> None:
        """The blocks of the accounts only opened, up to ``account`` (all without one)."""
        while unmoved and (account is None or unmoved[0] < account):
            number = unmoved.pop(0)
            open_account(number, labels[number])
            close_account()

    for row in rows:
        if row.account != current:
            if current is not None:
                close_account()
            unmoved_before(row.account)
            open_account(row.account, row.account_label)
        debit += row.debit
        credit += row.credit
        balance += row.debit - row.credit
        lines.append((row.entry_date, row.journal_code, row.reference, row.piece_ref, row.label,
                      row.debit or None, row.credit or None, balance))  # fmt: skip
        total_debit += row.debit
        total_credit += row.credit
    if current is not None:
        close_account()
    unmoved_before(None)
    bold.append(("Total général", None, None, None,
                 "Débit = crédit" if total_debit == total_credit else "ÉCART", total_debit,
                 total_credit, None))  # fmt: skip
    return total_debit, total_credit


def _balance_sheet(workbook: Workbook, rows: list[BalanceRow]) -> int:
    sheet = workbook.create_sheet(BALANCE)
    page = _header(sheet, BALANCE_HEADER, (12, 40, 14, 14, 14, 14, 14, 14), (1,))
    lines = _Rows(page, (None, None) + (AMOUNT,) * 6)
    for row in rows:
        lines.append((row.account, row.label, row.opening_debit, row.opening_credit, row.debit,
                      row.credit, row.debit_balance, row.credit_balance))  # fmt: skip
    page.blank()
    total = totals(rows)
    _Rows(page, (None, None) + (AMOUNT,) * 6, bold=True).append(
        ("Total", "Débit = crédit" if total.balanced else "ÉCART", total.opening_debit,
         total.opening_credit, total.debit, total.credit, total.debit_balance,
         total.credit_balance)
    )  # fmt: skip
    return len(rows)


def write_ledger_workbook(
    session: Session,
    start: date | None,
    end: date | None,
    target: str | Path | IO[bytes],
) -> LedgerWorkbookSummary:
    """Write the workbook of the lines dated from ``start`` to ``end`` into ``target``."""
    workbook = Workbook(write_only=True)
    count, debit, credit = _journal_sheet(workbook, iter_journal(session, start, end))
    # One trial balance for both sheets: its openings follow the rule of the screens and of
    # the FEC (accounting.ledger.opening); an account without a line in the range (neither
    # debit nor credit) still gets its block in the general ledger, as on screen.
    balance = trial_balance(session, start, end)
    openings = {row.account: row.opening for row in balance if row.opening}
    unmoved = {row.account: row.label for row in balance if not row.debit and not row.credit}
    _ledger_sheet(workbook, iter_general_ledger(session, start, end), openings, unmoved)
    accounts = _balance_sheet(workbook, balance)
    workbook.save(target)
    return LedgerWorkbookSummary(count, debit, credit, accounts)


def ledger_workbook_name(start: date | None, end: date | None) -> str:
    """« grand-livre-2026-01-01-2026-12-31.xlsx »."""
    parts = [day.isoformat() for day in (start, end) if day is not None]
    return "-".join(["grand-livre", *parts]) + ".xlsx"


MEMBER_HEADER = ("Date", "Journal", "Pièce", "Compte", "Intitulé du compte", "Tiers",
                 "Libellé", "Débit", "Crédit")  # fmt: skip


def write_member_workbook(lines: Iterable[FecLine], target: str | Path | IO[bytes]) -> int:
    """The entries a member books on its side (see :mod:`accounting.ledger.member_side`), one
    sheet « Écritures » with the totals; returns the line count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Écritures")
    page = _header(sheet, MEMBER_HEADER, (11, 8, 17, 10, 28, 12, 40, 13, 13), (4, 6))
    rows = _Rows(page, (DATE, None, None, None, None, None, None, AMOUNT, AMOUNT))
    debit = credit = ZERO
    count = 0
    for line in lines:
        rows.append((line.ecriture_date, line.journal_code, line.piece_ref, line.compte_num,
                     line.compte_lib, line.comp_aux_num, line.ecriture_lib,
                     line.debit or None, line.credit or None))  # fmt: skip
        debit += line.debit
        credit += line.credit
        count += 1
    page.blank()
    _Rows(page, (None,) * 7 + (AMOUNT, AMOUNT), bold=True).append(
        ("Total", None, None, None, None, None,
         "Débit = crédit" if debit == credit else "ÉCART", debit, credit)
    )  # fmt: skip
    workbook.save(target)
    return count
