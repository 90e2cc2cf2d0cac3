"""Harvest's "Detailed time report" CSV: ``Date, Client, Project, Project Code, Task, Notes,
Hours, Hours Rounded, Billable?, Invoiced?, Approved?, First Name, Last Name, Roles,
Employee?, …`` (dates ``2026-03-02``, hours in decimal ``1.5``). Harvest has no e-mail
column: the person is ``First Name`` and ``Last Name``, matched to a user's name or mapped
once like Kimai's users."""

from __future__ import annotations

from dataclasses import replace

from imports.tabular import Row, Table, normalize_header
from imports.timesheets.lines import Lines
from imports.timesheets.references import References
from imports.timesheets.report import Candidate
from imports.timesheets.trackers import read_export

NAME = "harvest"
LABEL = "export Harvest"

#: The column made of First Name and Last Name, as error messages name it.
PERSON = "First Name + Last Name"

COLUMNS: dict[str, list[str]] = {
    "date": ["Date"],
    "duration": ["Hours"],
    "user": [PERSON],
    "customer": ["Client"],
    "project": ["Project"],
    "activity": ["Task"],
    "description": ["Notes"],
}
OPTIONAL = ("activity", "description")


def matches(names: set[str]) -> bool:
    """Harvest's header: ``Hours``, ``First Name`` and ``Last Name`` beside the date, client
    and project."""
    return {"date", "client", "project", "hours", "firstname", "lastname"} <= names


def _with_person(table: Table) -> Table:
    """The table with one more column: ``First Name Last Name`` of each line."""
    names = [normalize_header(title) for title in table.header]
    first, last = names.index("firstname"), names.index("lastname")
    rows = [
        Row(row.line, (*row.values, f"{row.values[first]} {row.values[last]}".strip()))
        for row in table.rows
    ]
    return replace(table, header=(*table.header, PERSON), rows=rows)


def parse(table: Table, refs: References, out: Lines) -> list[Candidate]:
    return read_export(_with_person(table), refs, out, COLUMNS, optional=OPTIONAL)
