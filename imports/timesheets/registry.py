"""The timesheet formats, tried in order: the first whose ``matches`` accepts a file's header
reads it. Each format is a module with ``NAME``, ``LABEL`` (for users), ``matches(names)`` (the
header's normalised titles) and ``parse(table, refs, out)`` (the valid lines as candidates, each
with its physical line; errors and unmapped names recorded in ``out``).

Adding a format: write its module (and its tests), and add it to ``FORMATS`` before the template,
which accepts any header and so comes last."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from imports.tabular import normalize_header
from imports.timesheets import kimai, template

FORMATS: tuple[ModuleType, ...] = (
    kimai,
    template,  # last: any other header is read as our template (its missing columns reported)
)


def format_of(header: Iterable[str]) -> ModuleType:
    """The module of the first format that recognises ``header``."""
    names = {normalize_header(title) for title in header}
    return next(module for module in FORMATS if module.matches(names))


def detect_format(header: Iterable[str]) -> str:
    """The name of the format of a file with this header (``"kimai"``, ``"template"``)."""
    return format_of(header).NAME
