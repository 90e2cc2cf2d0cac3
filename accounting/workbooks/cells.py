"""Writing user text into spreadsheets and CSV files without ever starting a formula.

Why: a member name, a note or a reference typed by a user may begin with ``=``, ``+``, ``-`` or
``@`` (or a tab / carriage return). Excel and LibreOffice evaluate such a cell as a formula
("CSV injection", DESIGN §7.9). Every writer of the project uses these helpers for text that a
user could have entered:

* openpyxl, normal mode: :func:`put_text` (``cell`` gets a string type, never ``f``, and the
  quote-prefix flag so that editing the cell in Excel keeps it as text);
* openpyxl, write-only mode: :func:`text_cell` (a ``WriteOnlyCell`` forced to text);
* CSV and other plain-text exports: :func:`safe_text` (a leading apostrophe, the OWASP advice).

Numbers and dates are written as themselves: only text needs guarding.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

#: First characters that make a spreadsheet treat a text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(value: object) -> bool:
    """True when ``value`` is a text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def safe_text(value: object) -> str:
    """Text for a CSV (or any plain-text export): ``=1+1`` becomes ``'=1+1``.

    ``None`` becomes ``""``; other values are turned into their ``str``.
    """
    if value is None:
        return ""
    text = str(value)
    return "'" + text if starts_formula(text) else text


def put_text(cell: Cell, value: object) -> Cell:
    """Write ``value`` into ``cell`` as text, whatever its first character.

    openpyxl turns a string beginning with ``=`` into a formula on assignment: the type is
    forced back to string, and the quote-prefix flag keeps it text if the user edits the cell.
    """
    text = "" if value is None else str(value)
    cell.value = text
    cell.data_type = "s"
    if starts_formula(text):
        cell.quotePrefix = True
    return cell


def text_cell(sheet: Worksheet, value: object, **style: Any) -> WriteOnlyCell:
    """A write-only-mode cell holding ``value`` as text (see :func:`put_text`).

    ``style`` may give ``font``, ``fill``, ``alignment``, ``border`` or ``number_format``.
    """
    cell = WriteOnlyCell(sheet)
    put_text(cell, value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell
