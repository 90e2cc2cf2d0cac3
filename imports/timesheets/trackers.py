"""What the detailed exports of other time trackers (Toggl Track, Clockify, Harvest) share:
their columns are mapped to Kimai's canonical names, their cells rewritten where the tool has a
quirk (a date order, a duration written as a clock time), lines of zero duration (a timer
started and stopped at once) set aside with a warning, and the lines read by Kimai's reader
(:func:`imports.timesheets.kimai.read_columns`): the same resolution of customers, projects,
tasks and users, and the same saved mapping of names, shared by every tracker."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from imports.errors import RowError
from imports.tabular import Row, Table, map_columns
from imports.timesheets.kimai import read_columns
from imports.timesheets.lines import Lines
from imports.timesheets.references import References
from imports.timesheets.report import Candidate

_CLOCK = re.compile(r"(\d+):(\d{2})(?::(\d{2}))?")
_DECIMAL = re.compile(r"\d+(?:[.,]\d+)?")


def is_zero_duration(text: str) -> bool:
    """A duration that rounds to no minute: ``00:00:00``, ``00:00:02``, ``0.00``."""
    text = text.strip()
    if match := _CLOCK.fullmatch(text):
        seconds = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)
        return seconds < 30
    if _DECIMAL.fullmatch(text):
        return float(text.replace(",", ".")) * 3600 < 30
    return False


def read_export(
    table: Table,
    refs: References,
    out: Lines,
    spec: Mapping[str, Sequence[str]],
    *,
    optional: Sequence[str],
    cells: Mapping[str, Callable[[str], str]] | None = None,
) -> list[Candidate]:
    """Map ``table``'s columns with ``spec`` (Kimai's canonical names), rewrite the cells of
    the columns named in ``cells``, set zero-duration lines aside (a warning each) and read
    the lines as Kimai's."""
    cols = map_columns(
        table.header, spec, optional=optional, allow_unknown=True, header_line=table.header_line
    )
    rewrites = [(cols[name], rewrite) for name, rewrite in (cells or {}).items() if name in cols]
    duration = cols.get("duration")
    rows: list[Row] = []
    for row in table.rows:
        values = list(row.values)
        for index, rewrite in rewrites:
            values[index] = rewrite(values[index])
        if duration is not None and is_zero_duration(values[duration]):
            out.warnings.append(
                RowError(
                    row.line,
                    cols.label("duration"),
                    f"Durée nulle « {row.values[duration]} » : ligne ignorée.",
                )
            )
            continue
        rows.append(Row(row.line, tuple(values)))
    return read_columns(replace(table, rows=rows), refs, out, cols)
