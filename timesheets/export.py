"""Exports of the work entries list: XLSX for people, CSV for Excel, and the monthly summary.

Design: the XLSX is written with openpyxl's write-only mode (rows streamed to disk, constant
memory) and lxml; the styled cells (dates, hours) are built once per column and reused for
every row, so styling costs nothing per cell; user text goes as plain strings, and only a text
that could start a formula gets a cell forced to text. Typed cells: real dates, hours as
numbers with a format, quantities as numbers; French headers, frozen header row, autofilter,
and a totals row (``SUBTOTAL`` so that it follows the filter). User text never starts a
formula (``accounting.workbooks.cells``). The CSV is ``;``-separated UTF-8 with a BOM, decimal
comma, dates ``dd/mm/yyyy``: what French Excel opens without a wizard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from accounting.workbooks.cells import put_text, safe_text, starts_formula, text_cell
from accounting.workbooks.printing import row_height, set_row_height, setup_page
from timesheets.listing import COMMON_LABEL
from timesheets.summaries import Summary

HEADERS = [
    "Date",
    "Intervenant",
    "E-mail",
    "Code adhérent",
    "Adhérent",
    "Service",
    "Activité",
    "Heures",
    "Minutes",
    "Unité d'œuvre",
    "Quantité",
    "Commentaire",
    "Statut",
]
#: A landscape A4 at about 75 %: the long texts wrap (see _WRAPPED) rather than widen; codes
#: and e-mail addresses do not wrap and get their width.
WIDTHS = [10.5, 16, 30, 12, 18, 15, 18, 7, 8, 15, 9, 22, 10]
#: The text columns (0-based) whose long values wrap, their row made as tall as they need.
_WRAPPED = (1, 4, 6, 9, 11)
_WRAP = Alignment(wrap_text=True, vertical="bottom")
_TEXT_COLUMNS = (1, 2, 3, 4, 5, 6, 9, 11, 12)
_BOLD = Font(bold=True)
_GREY = PatternFill("solid", fgColor="DDDDDD")


def _clean(text: Any) -> str:
    """Text without the control characters XML cannot hold (openpyxl would refuse them)."""
    if text is None:
        return ""
    text = str(text)
    return ILLEGAL_CHARACTERS_RE.sub("", text) if ILLEGAL_CHARACTERS_RE.search(text) else text


def _text(cell: WriteOnlyCell, value: Any) -> Any:
    """A user's text for a write-only row: the plain string when openpyxl keeps it as text
    anyway (no cost), else ``cell`` forced to text (``put_text``) when it could start a formula
    or read as an error code. A pre-built cell costs openpyxl a failed conversion per cell, so
    only the few texts that need it get one."""
    text = _clean(value)
    if starts_formula(text) or text in ERROR_CODES:
        return put_text(cell, text)
    return text


def _header(sheet: Any, titles: list[str]) -> list[WriteOnlyCell]:
    """A bold, wrapped header row on grey for a write-only sheet."""
    return [text_cell(sheet, title, font=_BOLD, fill=_GREY, alignment=_WRAP) for title in titles]


class _Wrapper:
    """Long texts of the wrapped columns: a wrapped cell (built only for them, short texts stay
    plain strings) and the height of the row that holds them."""

    def __init__(self, sheet: Any) -> None:
        self.cells = {}
        for index in _WRAPPED:
            cell = WriteOnlyCell(sheet)
            cell.alignment = _WRAP
            self.cells[index] = cell

    def wrap(self, out: list[Any]) -> float | None:
        """Wrap the long texts of ``out`` in place; the row's height, or None (one line)."""
        long = []
        for index in _WRAPPED:
            value = out[index]
            text = value.value if isinstance(value, Cell) else value
            if isinstance(text, str) and len(text) > WIDTHS[index] - 2:
                cell = self.cells[index]
                put_text(cell, text)
                out[index] = cell
                long.append((text, WIDTHS[index]))
        if not long:
            return None
        return row_height([t for t, _ in long], [w for _, w in long])


def _style_header(row: Iterable[Any]) -> None:
    """Bold on grey, the header row of a normal-mode sheet."""
    for cell in row:
        cell.font = _BOLD
        cell.fill = _GREY


def _people(texts: list[Any]) -> list[Any]:
    """The six text columns of an export row (staff, e-mail, member code, member, service,
    activity), the member named for common work."""
    texts[3] = texts[3] or COMMON_LABEL
    return texts


def write_entries_xlsx(rows: Iterable[tuple[Any, ...]], target: str | IO[bytes]) -> int:
    """Write the export rows (see :func:`timesheets.listing.export_rows`) to ``target``;
    returns how many rows were written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Temps")
    for index, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    setup_page(sheet, title_rows=1)
    set_row_height(sheet, 1, row_height(HEADERS, WIDTHS, bold=True))
    sheet.append(_header(sheet, HEADERS))
    wrapper = _Wrapper(sheet)

    day_cell = WriteOnlyCell(sheet)
    day_cell.number_format = "DD/MM/YYYY"
    hours_cell = WriteOnlyCell(sheet)
    hours_cell.number_format = "0.00"
    quantity_cell = WriteOnlyCell(sheet)
    quantity_cell.number_format = "#,##0.###"
    text_cells = {index: WriteOnlyCell(sheet) for index in _TEXT_COLUMNS}
    people_cells = [text_cells[index] for index in range(1, 7)]

    count = 0
    for day, *texts, minutes, unit, quantity, note, status in rows:
        day_cell.value = day
        hours_cell.value = minutes / 60
        out: list[Any] = [day_cell]
        for cell, value in zip(people_cells, _people(texts), strict=True):
            out.append(_text(cell, value) if value else None)
        out.append(hours_cell)
        out.append(minutes)
        out.append(_text(text_cells[9], unit) if unit else None)
        if quantity is not None:
            quantity_cell.value = quantity
            out.append(quantity_cell)
        else:
            out.append(None)
        out.append(_text(text_cells[11], note) if note else None)
        out.append(_text(text_cells[12], status))
        count += 1
        set_row_height(sheet, count + 1, wrapper.wrap(out))
        sheet.append(out)

    last = count + 1
    totals: list[Any] = [text_cell(sheet, "Total", font=_BOLD), None, None, None, None, None, None]
    for letter, number_format in (("H", "0.00"), ("I", "0")):
        cell = WriteOnlyCell(sheet, value=f"=SUBTOTAL(9,{letter}2:{letter}{last})")
        cell.number_format = number_format
        cell.font = _BOLD
        totals.append(cell)
    sheet.append(totals)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{last}"
    workbook.save(target)
    return count


def _fr_number(value: Decimal | float | int, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def entries_csv_lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The CSV export, line by line (first the BOM and the header), for streaming.

    The same few names, e-mails, services, durations and quantities come back on every row:
    each distinct value is guarded and formatted once per export (dictionaries local to the
    call), which halves the time of a month's export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    texts_seen: dict[Any, str] = {}
    hours_seen: dict[int, str] = {}
    quantities_seen: dict[Decimal, str] = {}

    def text(value: Any) -> str:
        out = texts_seen.get(value)
        if out is None:
            out = texts_seen[value] = safe_text(value)
        return out

    def hours(minutes: int) -> str:
        out = hours_seen.get(minutes)
        if out is None:
            out = hours_seen[minutes] = _fr_number(Decimal(minutes) / 60, 2)
        return out

    def quantity_text(quantity: Decimal | None) -> str:
        if quantity is None:
            return ""
        out = quantities_seen.get(quantity)
        if out is None:
            plain = quantity.normalize()
            out = quantities_seen[quantity] = _fr_number(
                plain, max(0, -plain.as_tuple().exponent)
            )
        return out

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADERS)
    yield "\ufeff" + flush()
    for count, (day, *people, minutes, unit, quantity, note, status) in enumerate(rows, 1):
        writer.writerow(
            [
                f"{day:%d/%m/%Y}",
                *(text(value) for value in _people(people)),
                hours(minutes),
                minutes,
                text(unit),
                quantity_text(quantity),
                safe_text(note),
                status,
            ]
        )
        if count % 1000 == 0:
            yield flush()
    yield flush()


def write_entries_csv(rows: Iterable[tuple[Any, ...]], target: IO[bytes]) -> None:
    for chunk in entries_csv_lines(rows):
        target.write(chunk.encode())


SUMMARY_HEADERS = [
    "Mois",
    "Service",
    "Code adhérent",
    "Adhérent",
    "Heures",
    "Minutes",
    "Unités pondérées",
]


def write_summary_xlsx(summary: Summary, target: str | IO[bytes]) -> None:
    """The monthly summary as a workbook: one sheet per member × service × month, one sheet of
    common work's share per service and month."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Synthèse"
    sheet.append(SUMMARY_HEADERS)
    _style_header(sheet[1])
    for row in summary.rows:
        sheet.append([row.month_code])
        line = sheet.max_row
        put_text(sheet.cell(line, 2), row.service_code)
        put_text(sheet.cell(line, 3), row.member_code)
        put_text(sheet.cell(line, 4), row.member_name)
        sheet.cell(line, 5, row.minutes / 60).number_format = "0.00"
        sheet.cell(line, 6, row.minutes)
        sheet.cell(line, 7, row.units).number_format = "#,##0.###"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:G{sheet.max_row}"
    for letter, width in zip("ABCDEFG", (9, 14, 13, 32, 9, 9, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    setup_page(sheet, title_rows=1)

    common = workbook.create_sheet("Travail commun")
    common.append(
        [
            "Mois",
            "Service",
            "Heures direct",
            "Heures commun",
            "Part du commun (%)",
            "Unités direct",
            "Unités commun",
        ]
    )
    _style_header(common[1])
    for item in summary.services:
        common.append(
            [
                item.month_code,
                None,
                item.direct_minutes / 60,
                item.common_minutes / 60,
                item.common_share,
                item.direct_units,
                item.common_units,
            ]
        )
        put_text(common.cell(common.max_row, 2), item.service_code)
        for column in (3, 4):
            common.cell(common.max_row, column).number_format = "0.00"
    common.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (9, 14, 11, 11, 12, 11, 11), strict=True):
        common.column_dimensions[letter].width = width
    for cell in common[1]:
        cell.alignment = _WRAP
    common.row_dimensions[1].height = 30
    setup_page(common, title_rows=1)
    workbook.save(target)


def write_summary_csv(summary: Summary, target: IO[bytes]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(SUMMARY_HEADERS)
    for row in summary.rows:
        writer.writerow(
            [
                row.month_code,
                safe_text(row.service_code),
                safe_text(row.member_code),
                safe_text(row.member_name),
                _fr_number(Decimal(row.minutes) / 60, 2),
                row.minutes,
                _fr_number(row.units, 3),
            ]
        )
    target.write(b"\xef\xbb\xbf" + buffer.getvalue().encode())
