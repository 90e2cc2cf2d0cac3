"""The timesheet formats, tried in order: the first whose ``matches`` accepts a file's header
reads it. Each format is a module with ``NAME``, ``LABEL`` (for users), ``matches(names)`` (the
header's normalised titles) and ``parse(table, refs, out)`` (the valid lines as candidates, each
with its physical line; errors and unmapped names recorded in ``out``).

Adding a format: write its module (and its tests), and add it to ``FORMATS`` before the template,
which accepts any header and so comes last."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from imports.errors import ImportRefused, RowError
from imports.tabular import normalize_header
from imports.timesheets import clockify, harvest, kimai, template, toggl

FORMATS: tuple[ModuleType, ...] = (
    toggl,
    clockify,
    harvest,
    kimai,  # after the other trackers: their exports have a date, a client and a project too
    template,  # last: a header with most of its columns (the missing ones are reported)
)


def format_of(header: Iterable[str], header_line: int = 1) -> ModuleType:
    """The module of the first format that recognises ``header``; ``ImportRefused`` naming
    the recognised formats when none does."""
    names = {normalize_header(title) for title in header}
    found = next((module for module in FORMATS if module.matches(names)), None)
    if found is None:
        labels = ", ".join(module.LABEL for module in FORMATS)
        shown = ", ".join(f"« {title} »" for title in list(header)[:6] if title.strip())
        raise ImportRefused(
            RowError(
                header_line,
                None,
                f"Format non pris en charge (en-têtes {shown or 'vides'}) : formats reconnus : "
                f"{labels}.",
            )
        )
    return found


def detect_format(header: Iterable[str]) -> str:
    """The name of the format of a file with this header (``"kimai"``, ``"toggl"``...)."""
    return format_of(header).NAME
