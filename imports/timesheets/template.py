"""Our own template (CSV or XLSX, English or French headers): its columns, its reader, and
the downloadable template files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from imports.parsing import parse_date, parse_decimal, parse_duration
from imports.tabular import Table, map_columns, normalize_header
from imports.timesheets.lines import (
    Lines,
    Resolved,
    column_texts,
    memo,
    parse_cell,
    parsed,
    resolved,
)
from imports.timesheets.references import References
from imports.timesheets.report import Candidate

NAME = "template"
LABEL = "modèle Mutualise"

#: Our template: canonical name -> accepted headers (English names are the canonical ones).
TEMPLATE_COLUMNS: dict[str, list[str]] = {
    "date": ["Date", "Jour"],
    "staff": ["Intervenant", "Intervenante", "Salarié", "email", "E-mail", "Courriel"],
    "member": ["Adhérent", "Member code", "Code adhérent", "Membre"],
    "service": ["Service", "Service code", "Code service"],
    "duration": ["Durée", "Temps"],
    "activity": ["Activité"],
    "unit_type": ["Unité", "Unit", "Unité d'œuvre", "Type d'unité"],
    "units": ["Quantité", "Quantity", "Nombre"],
    "note": ["Commentaire", "Note", "Description"],
}
TEMPLATE_OPTIONAL = ("activity", "unit_type", "units", "note")
#: Headers of the downloadable template, in order (French, as users see them).
TEMPLATE_HEADERS_FR = [
    "Date",
    "Intervenant",
    "Adhérent",
    "Service",
    "Durée",
    "Activité",
    "Unité",
    "Quantité",
    "Commentaire",
]
TEMPLATE_HEADERS_EN = [
    "date",
    "staff",
    "member",
    "service",
    "duration",
    "activity",
    "unit type",
    "units",
    "note",
]


_REQUIRED = [
    {normalize_header(alias) for alias in (name, *TEMPLATE_COLUMNS[name])}
    for name in TEMPLATE_COLUMNS
    if name not in TEMPLATE_OPTIONAL
]


def matches(names: set[str]) -> bool:
    """A header with at least three of the template's five required columns (tried last: its
    missing columns are then reported one by one)."""
    return sum(1 for aliases in _REQUIRED if names & aliases) >= 3


def parse(table: Table, refs: References, out: Lines) -> list[Candidate]:
    """Our template, read column by column: each distinct text of a column (a date, an e-mail,
    a member code...) is parsed and resolved once, then every line picks its result. A file of
    100 000 lines has a few thousand distinct cells, so the per-line work is a few lookups."""
    cols = map_columns(
        table.header, TEMPLATE_COLUMNS, optional=TEMPLATE_OPTIONAL, header_line=table.header_line
    )
    label = cols.label
    out.labels = {name: label(name) for name in ("date", "staff", "member", "service", "duration")}
    rows = table.rows
    text = {name: column_texts(rows, cols.get(name)) for name in TEMPLATE_COLUMNS}
    services = resolved(text["service"], refs.template_service)
    columns = [
        (label("date"), resolved(text["date"], parsed(parse_date, min_year=2000))),
        (label("staff"), resolved(text["staff"], refs.template_staff)),
        (label("member"), resolved(text["member"], refs.template_member)),
        (label("service"), services),
        (
            label("activity"),
            resolved(
                [(s[0], name) for s, name in zip(services, text["activity"], strict=True)],
                refs.template_activity,
            ),
        ),
    ]
    lines = _TemplateLines(out, refs, (label("unit_type"), label("units")), label("duration"))
    result: list[Candidate] = []
    for index, row in enumerate(rows):
        candidate = lines.read(index, row.line, columns, text)
        if candidate is not None:
            result.append(candidate)
    return result


class _TemplateLines:
    """Reads one line of the template from its columns' resolved cells."""

    def __init__(
        self, out: Lines, refs: References, unit_columns: tuple[str, str], duration_label: str
    ) -> None:
        self.out = out
        self.refs = refs
        self.unit_columns = unit_columns
        self.duration_label = duration_label
        self.minutes_of = parsed(parse_duration)
        self.durations: dict[str, tuple[Any, str | None]] = {}
        self.quantity_of = memo(parse_decimal, max_places=3, allow_negative=False)

    def read(
        self,
        index: int,
        line: int,
        columns: list[tuple[str, list[Resolved]]],
        text: dict[str, list[str]],
    ) -> Candidate | None:
        """The line's candidate, or None after recording its errors."""
        out = self.out
        bad = False
        for column, cells in columns:
            message = cells[index][1]
            if message is not None:
                out.error(line, column, message)
                bad = True
        service_id = columns[3][1][index][0]
        unit_text, units_text = text["unit_type"][index], text["units"][index]
        unit_type_id = quantity = None
        if unit_text or units_text:
            count = len(out.errors)
            unit_type_id, quantity = _units(
                out,
                self.refs,
                line,
                self.unit_columns,
                service_id,
                unit_text,
                units_text,
                self.quantity_of,
            )
            bad = bad or len(out.errors) > count
        duration_text = text["duration"][index]
        minutes = 0
        if duration_text or unit_type_id is None:
            found = self.durations.get(duration_text)
            if found is None:
                found = self.durations[duration_text] = self.minutes_of(duration_text)
            minutes, message = found
            if message is not None:
                out.error(line, self.duration_label, message)
                bad = True
        if bad:
            return None
        day, staff, member, _service, activity = (cells[index][0] for _c, cells in columns)
        return Candidate(
            line,
            day,
            staff,
            member,
            service_id,
            activity,
            unit_type_id,
            quantity,
            minutes,
            text["note"][index],
        )


def _units(
    out: Lines,
    refs: References,
    line: int,
    columns: tuple[str, str],
    service_id: int | None,
    unit_text: str,
    units_text: str,
    quantity_of: Callable[[str], Decimal],
) -> tuple[int | None, Decimal | None]:
    if not unit_text and not units_text:
        return None, None
    if not unit_text:
        out.error(line, columns[0], "Quantité sans unité d'œuvre : indiquez l'unité.")
        return None, None
    if not units_text:
        out.error(line, columns[1], "Unité d'œuvre sans quantité : indiquez la quantité.")
        return None, None
    quantity = parse_cell(out, line, columns[1], quantity_of, units_text)
    if quantity is not None and quantity == 0:
        out.error(line, columns[1], "La quantité doit être supérieure à zéro.")
    if service_id is None:
        return None, quantity
    found = refs.unit_types.get((service_id, normalize_header(unit_text)))
    if found is None:
        out.error(
            line,
            columns[0],
            f"Unité d'œuvre inconnue « {unit_text} » pour le service « "
            f"{refs.services[service_id][1]} ».",
        )
        return None, quantity
    if not found[1]:
        out.error(line, columns[0], f"L'unité d'œuvre « {unit_text} » est désactivée.")
    return found[0], quantity


_TEMPLATE_EXAMPLES = [
    [
        "2026-03-05",
        "prenom.nom@example.org",
        "A01",
        "COMPTA",
        "1h30",
        "Tenue comptable",
        "",
        "",
        "Saisie des factures",
    ],
    [
        "05/03/2026",
        "prenom.nom@example.org",
        "A01",
        "COMPTA",
        "",
        "Paie",
        "Bulletin de paie",
        "12",
        "",
    ],
    [
        "06/03/2026",
        "prenom.nom@example.org",
        "",
        "DEV",
        "2,5",
        "Étude micro-crèche",
        "",
        "",
        "Travail commun",
    ],
]


def template_csv() -> bytes:
    """The template as a CSV for Excel: ``;``-separated, UTF-8 with BOM, French headers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADERS_FR)
    writer.writerows(_TEMPLATE_EXAMPLES)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


def template_xlsx() -> bytes:
    """The template as a workbook: French headers, example lines, dates as real dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Saisies"
    sheet.append(TEMPLATE_HEADERS_FR)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in _TEMPLATE_EXAMPLES:
        row = list(example)
        row[0] = parse_date(row[0])
        sheet.append(row)
        sheet.cell(sheet.max_row, 1).number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEFGHI", (12, 28, 10, 10, 8, 22, 18, 10, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
