"""Toggl Track's "Detailed report" CSV (every layout since 2017: with or without BOM, quoting
and ``Amount (…)``), e.g. ``User,Email,Client,Project,Task,Description,Billable,Start date,
Start time,End date,End time,Duration,Tags,Amount (EUR)``. The client is the member, the
project the service, the task the activity, the e-mail (or the user's name) the staff."""

from __future__ import annotations

import re

from imports.tabular import Table
from imports.timesheets.lines import Lines
from imports.timesheets.references import References
from imports.timesheets.report import Candidate
from imports.timesheets.trackers import read_export

NAME = "toggl"
LABEL = "export Toggl Track"

COLUMNS: dict[str, list[str]] = {
    "date": ["Start date"],
    "duration": ["Duration"],
    "user": ["User"],
    "email": ["Email"],
    "customer": ["Client"],
    "project": ["Project"],
    "activity": ["Task"],
    "description": ["Description"],
}
OPTIONAL = ("user", "email", "activity", "description")

_MERIDIEM = re.compile(r"(\d{1,2})(:\d{2}(?::\d{2})?)\s*([AaPp])\.?[Mm]\.?")


def matches(names: set[str]) -> bool:
    """Toggl's header: ``Start date``, ``Email`` and ``Duration`` (Clockify's has
    ``Duration (decimal)`` instead)."""
    return {"startdate", "email", "duration", "client", "project"} <= names


def duration_text(text: str) -> str:
    """Toggl writes a duration as a 12-hour clock time when the account uses one:
    ``02:00:00 AM`` is 2 h, ``12:20:00 AM`` is 20 min, ``01:00:00 PM`` is 13 h."""
    match = _MERIDIEM.fullmatch(text.strip())
    if match is None:
        return text
    hours = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
    return f"{hours}{match[2]}"


def parse(table: Table, refs: References, out: Lines) -> list[Candidate]:
    return read_export(
        table, refs, out, COLUMNS, optional=OPTIONAL, cells={"duration": duration_text}
    )
