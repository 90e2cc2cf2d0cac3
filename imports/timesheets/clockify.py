"""Clockify's "Detailed report" CSV (the classic 17 columns and the newer layout with Type,
Invoiced, Date of creation), e.g. ``"Project","Client","Description","Task","User","Group",
"Email","Tags","Billable","Start Date","Start Time","End Date","End Time","Duration (h)",
"Duration (decimal)",…``. Dates follow the account's setting (``10/15/2024`` month first by
default, ``15/10/2024`` day first): the order is found from the file's own dates."""

from __future__ import annotations

import re
from collections.abc import Callable

from imports.errors import ImportRefused, RowError
from imports.tabular import Table, map_columns
from imports.timesheets.lines import Lines
from imports.timesheets.references import References
from imports.timesheets.report import Candidate
from imports.timesheets.trackers import read_export

NAME = "clockify"
LABEL = "export Clockify"

COLUMNS: dict[str, list[str]] = {
    "date": ["Start Date"],
    "duration": ["Duration (h)"],
    "user": ["User"],
    "email": ["Email"],
    "customer": ["Client"],
    "project": ["Project"],
    "activity": ["Task", "Activity"],
    "description": ["Description"],
}
OPTIONAL = ("user", "email", "activity", "description")

_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")


def matches(names: set[str]) -> bool:
    """Clockify's header: ``Start Date`` and ``Duration (decimal)``."""
    return {"startdate", "durationdecimal", "project"} <= names


def _month_first(table: Table, index: int, label: str, out: Lines) -> bool:
    """Whether the slashed dates of the file are month first: a first number above 12 says
    day first, a second number above 12 month first; with neither, Clockify's default (month
    first) is assumed and said in a warning. Both: the file is refused."""
    day_first = month_first = slashed = False
    for row in table.rows:
        match = _SLASHED.fullmatch(row.values[index])
        if match:
            slashed = True
            day_first |= int(match[1]) > 12
            month_first |= int(match[2]) > 12
    if day_first and month_first:
        raise ImportRefused(
            RowError(
                table.header_line,
                label,
                "Dates écrites tantôt jour d'abord, tantôt mois d'abord : "
                "réexportez le fichier avec un seul format de date.",
            )
        )
    if slashed and not day_first and not month_first:
        out.warnings.append(
            RowError(
                table.header_line,
                label,
                "Dates lues mois d'abord (03/04/2024 : 4 mars 2024), le format par défaut de "
                "Clockify : aucune date du fichier ne permet de trancher.",
            )
        )
    return not day_first


def _date_rewriter(month_first: bool) -> Callable[[str], str]:
    def rewrite(text: str) -> str:
        match = _SLASHED.fullmatch(text.strip())
        if match is None:
            return text
        first, second, year = match[1], match[2], match[3]
        year = year if len(year) == 4 else f"20{year}"
        month, day = (first, second) if month_first else (second, first)
        return f"{year}-{int(month):02d}-{int(day):02d}"

    return rewrite


def parse(table: Table, refs: References, out: Lines) -> list[Candidate]:
    cols = map_columns(
        table.header,
        COLUMNS,
        optional=OPTIONAL,
        allow_unknown=True,
        header_line=table.header_line,
    )
    month_first = _month_first(table, cols["date"], cols.label("date"), out)
    return read_export(
        table, refs, out, COLUMNS, optional=OPTIONAL, cells={"date": _date_rewriter(month_first)}
    )
