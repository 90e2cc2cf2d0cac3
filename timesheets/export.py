"""Exports of the work entries list: XLSX for people, CSV for Excel, and the monthly summary.

Design: the entries XLSX is streamed as the rows' XML text into an openpyxl template
(:mod:`timesheets.entries_xlsx`: constant memory, no cell object per value); a text that could
start a formula is forced to text with the quote prefix. Typed cells: real dates, hours as
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
from types import SimpleNamespace
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from accounting.workbooks.cells import put_text, safe_text
from accounting.workbooks.printing import setup_page
from timesheets.entries_xlsx import write_rows_xlsx
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
_BOLD = Font(bold=True)
_GREY = PatternFill("solid", fgColor="DDDDDD")


def _clean(text: Any) -> str:
    """Text without the control characters XML cannot hold (openpyxl would refuse them)."""
    if text is None:
        return ""
    text = str(text)
    return ILLEGAL_CHARACTERS_RE.sub("", text) if ILLEGAL_CHARACTERS_RE.search(text) else text


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
    returns how many rows were written. The rows go out as XML text
    (:mod:`timesheets.entries_xlsx`): openpyxl's cells took 16 s for a month at 1 000 members."""
    return write_rows_xlsx(rows, target, headers=HEADERS, widths=WIDTHS, wrapped=_WRAPPED,
                           style=SimpleNamespace(bold=_BOLD, grey=_GREY, wrap=_WRAP),
                           clean=_clean, people=_people)


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
    # The line is counted, not read from ``sheet.max_row``: openpyxl computes that from every
    # cell written so far, which made a month at 1 000 members quadratic (minutes a request).
    for line, row in enumerate(summary.rows, start=2):
        sheet.append([row.month_code])
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
    for line, item in enumerate(summary.services, start=2):
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
        put_text(common.cell(line, 2), item.service_code)
        for column in (3, 4):
            common.cell(line, column).number_format = "0.00"
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
