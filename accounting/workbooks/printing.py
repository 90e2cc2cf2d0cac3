"""Print-ready sheets: page setup, column widths that fit their content, row heights that fit
wrapped text.

Why: a workbook is printed for a board meeting. Neither Excel nor LibreOffice sizes a row to
its wrapped text when it opens an openpyxl file (a wrapped header then overlaps the first data
row), and a column keeps the width it was given (« Frais de struc… »). Every workbook of the
project therefore:

* calls :func:`setup_page` on each sheet: A4, landscape unless told otherwise, fitted to the
  width of one page but never to one page in height (no tiny type), header rows repeated on
  every page, the sheet's title in the page header and « Page 3 / 7 » in the footer;
* sizes its columns with :func:`fit_widths` (measured on the text it will write, or on a
  sample when the rows are streamed) and gives wrapped rows their height with
  :func:`row_height`.

Works for write-only worksheets too: the page setup, the print titles and the row heights are
written at the end of the sheet or row by row; only the fit-to-page flag must be set before
the first row (:func:`setup_page` does it when called before any row is appended).

The measures are estimates in "characters of the default font" (Calibri 11, what a column
width counts), deliberately generous: a column a little too wide prints, a cut text does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

#: The footer of every printed page (Excel/LibreOffice codes: page number / number of pages).
FOOTER = "Page &P / &N"
#: The height of one line of 11-point text, in points, and a little air.
LINE_HEIGHT = 15.0
#: Bold text is wider than regular text by about this factor.
BOLD_FACTOR = 1.12
#: The average width of a character of running text (lower case, spaces) in widths of the
#: digit a column width counts: what a spreadsheet fits on a line when it wraps (LibreOffice
#: fits 45 characters of « 1 part sur 10 ; 1 200 unités… » in a 36-wide column).
AVERAGE_CHARACTER = 0.85
AVERAGE_BOLD = 0.95


def setup_page(
    sheet: Any, *, title_rows: int | tuple[int, int] | None = None, landscape: bool = True,
    header: str | None = None,
) -> None:
    """A4, landscape (or portrait), fit to one page wide and as many pages tall as needed,
    ``title_rows`` (a row or a (first, last) pair) repeated at the top of every page,
    ``header`` (default: the sheet's name) at the top and « Page n / N » at the bottom."""
    properties = sheet.sheet_properties
    if properties.pageSetUpPr is None:
        properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        properties.pageSetUpPr.fitToPage = True
    setup = sheet.page_setup
    setup.paperSize = Worksheet.PAPERSIZE_A4
    setup.orientation = "landscape" if landscape else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    if title_rows:
        first, last = title_rows if isinstance(title_rows, tuple) else (title_rows, title_rows)
        sheet.print_title_rows = f"{first}:{last}"
    margins = sheet.page_margins
    margins.left = margins.right = 0.5
    margins.top = margins.bottom = 0.75
    margins.header = margins.footer = 0.3
    sheet.oddHeader.center.text = header if header is not None else "&A"
    sheet.oddHeader.center.size = 9
    sheet.oddFooter.center.text = FOOTER
    sheet.oddFooter.center.size = 9


def display_text(value: Any, places: int = 2) -> str:
    """The text a value shows in a cell, near enough to measure it: money and numbers with
    their thousands separators, dates as DD/MM/YYYY."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (int, float, Decimal)):
        return f"{value:,.{places}f}"
    return str(value)


def text_width(value: Any, *, bold: bool = False, places: int = 2, suffix: str = "") -> float:
    """The width, in characters, of the longest line of ``value`` once displayed."""
    text = display_text(value, places) + suffix
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text += " €"  # room for a unit or a percent sign of the number format
    longest = max((len(line) for line in text.split("\n")), default=0)
    return longest * (BOLD_FACTOR if bold else 1.0)


def fit_widths(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, minimum: float = 6.0,
    maximum: Sequence[float] | float = 50.0, padding: float = 2.0,
    places: Sequence[int] | int = 2,
) -> list[float]:
    """A width per column: its widest value plus ``padding``, at least the longest word of its
    (bold, wrapped) header, between ``minimum`` and the column's ``maximum`` (beyond which the
    column's text wraps: see :func:`row_height`). ``places``: decimals shown per column."""
    count = len(headers)
    limits = [float(maximum)] * count if isinstance(maximum, (int, float)) else list(maximum)
    decimals = [places] * count if isinstance(places, int) else list(places)
    widest = [
        max((len(word) for word in title.split()), default=0) * BOLD_FACTOR
        for title in headers
    ]
    for row in rows:
        for index, value in enumerate(row[:count]):
            widest[index] = max(widest[index], text_width(value, places=decimals[index]))
    return [
        round(min(max(w + padding, minimum), limit), 1)
        for w, limit in zip(widest, limits, strict=True)
    ]


def lines_needed(text: Any, width: float, *, bold: bool = False) -> int:
    """How many lines ``text`` takes in a wrapped cell ``width`` characters wide (words are
    not split, as a spreadsheet wraps them)."""
    usable = max(width - 1.0, 1.0) / (AVERAGE_BOLD if bold else AVERAGE_CHARACTER)
    lines = 0
    for paragraph in display_text(text).split("\n"):
        count, current = 1, 0.0
        for word in paragraph.split(" "):
            size = len(word)
            if current and current + 1 + size > usable:
                count += 1
                current = 0.0
            current += (1 if current else 0) + size
            if current > usable:  # a word longer than the column: the cell breaks it
                count += math.ceil(current / usable) - 1
                current = current % usable
        lines += count
    return max(lines, 1)


def row_height(
    values: Sequence[Any], widths: Sequence[float], *, bold: bool = False,
    line: float = LINE_HEIGHT,
) -> float | None:
    """The height (points) a row of wrapped cells needs, or None when one line is enough."""
    lines = max(
        (lines_needed(v, w, bold=bold) for v, w in zip(values, widths, strict=False)
         if isinstance(v, str)),
        default=1,
    )
    return line * lines if lines > 1 else None


def set_row_height(sheet: Any, row: int, height: float | None) -> None:
    """Give ``row`` its height (before it is written, in write-only mode)."""
    if height is not None:
        sheet.row_dimensions[row].height = height
