"""The work entries workbook, its rows written as XML text (issue 16: a month at 1 000 members,
75 000 rows, took 16.6 s through openpyxl's write-only mode, 0.2 ms per row in cell objects).

Why: openpyxl builds, styles and serialises one cell object per value; here openpyxl still
writes everything but the rows (styles, column widths, frozen header, print setup, autofilter
and its defined name) from a template sheet holding the header and one sample of each styled
cell, and the rows are streamed as ``<row>`` text into the same zip entry, with the style ids
read from the sample. The file is the one openpyxl writes (inline strings, serial dates, the
same styles and row heights); each distinct text, day and number is escaped and formatted once
per export.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import date
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import WriteOnlyCell
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from accounting.workbooks.cells import put_text, starts_formula, text_cell
from accounting.workbooks.printing import row_height, set_row_height, setup_page

SHEET = "xl/worksheets/sheet1.xml"
#: The sample row's cells (column letter → kind): their ``s`` attribute is the style id.
_SAMPLES = {"A": "day", "B": "wrap", "C": "wrap_quote", "D": "quote", "E": "hours",
            "F": "quantity"}


def _template(headers: list[str], widths: list[float], style: Any, last: int | None
              ) -> bytes:
    """The workbook openpyxl writes with the header, one sample row (row 2) and the autofilter
    down to ``last`` (None: not known yet)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Temps")
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    setup_page(sheet, title_rows=1)
    set_row_height(sheet, 1, row_height(headers, widths, bold=True))
    sheet.append([text_cell(sheet, title, font=style.bold, fill=style.grey,
                            alignment=style.wrap) for title in headers])
    cells = []
    for kind in _SAMPLES.values():
        cell = WriteOnlyCell(sheet)
        if kind == "day":
            cell.value, cell.number_format = date(2000, 1, 1), "DD/MM/YYYY"
        elif kind == "hours":
            cell.value, cell.number_format = 1.0, "0.00"
        elif kind == "quantity":
            cell.value, cell.number_format = 1, "#,##0.###"
        else:
            if kind.startswith("wrap"):
                cell.alignment = style.wrap
            put_text(cell, "=x" if kind.endswith("quote") else "x")
        cells.append(cell)
    cells.append(text_cell(sheet, "Total", font=style.bold))
    for number_format in ("0.00", "0"):
        cell = WriteOnlyCell(sheet, value="=SUBTOTAL(9,A1:A1)")
        cell.number_format, cell.font = number_format, style.bold
        cells.append(cell)
    sheet.append(cells)
    if last is not None:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _split(sheet_xml: str) -> tuple[str, str, str, dict[str, str]]:
    """(text before the rows with the header row, sample row, text after the rows, style
    attribute of each sample kind and of the totals' cells)."""
    head, rest = sheet_xml.split("<sheetData>", 1)
    rows, tail = rest.split("</sheetData>", 1)
    header, sample = rows.split('<row r="2"', 1)
    styles = {}
    for column, found in re.findall(r'<c r="([A-Z]+)2"( s="\d+")?', sample):
        kind = _SAMPLES.get(column, {"G": "total", "H": "total_hours", "I": "total_minutes"}
                            .get(column))
        styles[kind] = found
    return head + "<sheetData>" + header, sample, "</sheetData>" + tail, styles


class _Texts:
    """Each distinct value's ``<c>`` text after its reference, made once per export."""

    def __init__(self, styles: dict[str, str], clean: Callable[[Any], str]) -> None:
        self.styles, self.clean = styles, clean
        self.made: dict[tuple[Any, float | None], tuple[str, tuple[str, float] | None]] = {}

    def cell(self, value: Any, wrap_width: float | None, long: list[tuple[str, float]]) -> str:
        """``"> … </c>"`` of a text cell; a long text of a wrapped column is added to ``long``
        (the row's height) and gets the wrapped style."""
        made = self.made.get((value, wrap_width))
        if made is None:
            made = self.made[(value, wrap_width)] = self._make(value, wrap_width)
        if made[1] is not None:
            long.append(made[1])
        return made[0]

    def _make(self, value: Any, wrap_width: float | None
              ) -> tuple[str, tuple[str, float] | None]:
        text = self.clean(value)
        if wrap_width is not None and len(text) > wrap_width - 2:
            kind = "wrap_quote" if starts_formula(text) else "wrap"
            return _inline(self.styles[kind], text), (text, wrap_width)
        return _inline(self.styles["quote"] if starts_formula(text) else "", text), None


def _inline(style: str, text: str) -> str:
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


class _Rows:
    """The ``<row>`` text of each export row; each distinct day, duration and quantity is
    formatted once per export."""

    def __init__(self, styles: dict[str, str], widths: list[float], wrapped: tuple[int, ...],
                 clean: Callable[[Any], str], people: Callable[[list[Any]], list[Any]]) -> None:
        self.styles, self.people = styles, people
        self.texts = _Texts(styles, clean)
        self.letters = [get_column_letter(index) for index in range(1, len(widths) + 1)]
        self.wrap_widths = [widths[i] if i in wrapped else None for i in range(len(widths))]
        self.days: dict[date, str] = {}
        self.hours: dict[int, str] = {}
        self.quantities: dict[Any, str] = {}
        self.heights: dict[tuple[tuple[str, float], ...], float | None] = {}

    def _height(self, long: tuple[tuple[str, float], ...]) -> float | None:
        """The height of a row of these long texts (the same few names come back)."""
        if long not in self.heights:
            self.heights[long] = row_height([t for t, _ in long], [w for _, w in long])
        return self.heights[long]

    def xml(self, number: int, values: tuple[Any, ...]) -> str:
        """Row ``number`` of the sheet holding ``values`` (an export row)."""
        day, *people, minutes, unit, quantity, note, status = values
        row, texts, widths, long = str(number), self.texts, self.wrap_widths, []
        day_text = self.days.get(day)
        if day_text is None:
            day_text = self.days[day] = (
                f'{self.styles["day"]} t="n"><v>{safe_string(to_excel(day))}</v></c>')
        cells = [f'<c r="A{row}"{day_text}']
        for index, value in enumerate(self.people(people), 1):
            if value:
                cells.append(f'<c r="{self.letters[index]}{row}"'
                             + texts.cell(value, widths[index], long))
        hours_text = self.hours.get(minutes)
        if hours_text is None:
            hours_text = self.hours[minutes] = (
                f'{self.styles["hours"]} t="n"><v>{safe_string(minutes / 60)}</v></c>'
                f'<c r="I@" t="n"><v>{minutes}</v></c>')
        cells.append(f'<c r="H{row}"' + hours_text.replace("@", row))
        if unit:
            cells.append(f'<c r="J{row}"' + texts.cell(unit, widths[9], long))
        if quantity is not None:
            quantity_text = self.quantities.get(quantity)
            if quantity_text is None:
                quantity_text = self.quantities[quantity] = (
                    f'{self.styles["quantity"]} t="n"><v>{safe_string(quantity)}</v></c>')
            cells.append(f'<c r="K{row}"' + quantity_text)
        if note:
            cells.append(f'<c r="L{row}"' + texts.cell(note, widths[11], long))
        cells.append(f'<c r="M{row}"' + texts.cell(status, None, long))
        height = self._height(tuple(long)) if long else None
        opening = (f'<row r="{row}" ht="{safe_string(height)}" customHeight="1">'
                   if height is not None else f'<row r="{row}">')
        return opening + "".join(cells) + "</row>"


def write_rows_xlsx(rows: Iterable[tuple[Any, ...]], target: str | IO[bytes], *,
                    headers: list[str], widths: list[float], wrapped: tuple[int, ...],
                    style: Any, clean: Callable[[Any], str],
                    people: Callable[[list[Any]], list[Any]]) -> int:
    """Write the entries export rows to ``target`` (see ``timesheets.export``: the columns
    are its ``HEADERS``); returns how many rows were written."""
    head, _sample, _tail, styles = _split(
        zipfile.ZipFile(_io(_template(headers, widths, style, None))).read(SHEET).decode())
    writer = _Rows(styles, widths, wrapped, clean, people)
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        with out.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            chunk: list[str] = []
            for count, values in enumerate(rows, 1):
                chunk.append(writer.xml(count + 1, values))
                if len(chunk) == 1000:
                    sheet.write("".join(chunk).encode())
                    chunk.clear()
            sheet.write("".join(chunk).encode())
            last = count + 1
            sheet.write(_totals(last, styles).encode())
            template = zipfile.ZipFile(_io(_template(headers, widths, style, last)))
            sheet.write(_split(template.read(SHEET).decode())[2].encode())
        for name in template.namelist():
            if name != SHEET:
                out.writestr(template.getinfo(name), template.read(name))
    return count


def _totals(last: int, styles: dict[str, str]) -> str:
    row = last + 1
    return (f'<row r="{row}"><c r="A{row}"' + _inline(styles["total"], "Total")
            + f'<c r="H{row}"{styles["total_hours"]}><f>SUBTOTAL(9,H2:H{last})</f><v></v></c>'
            f'<c r="I{row}"{styles["total_minutes"]}><f>SUBTOTAL(9,I2:I{last})</f><v></v></c>'
            "</row>")


def _io(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)

