"""Shared pieces of every format's reader: the collected errors, warnings and unmapped names
(errors are data, each with its physical line and column), and memoised cell parsers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounting.wording import plural
from imports.errors import InvalidValue, RowError
from imports.tabular import ColumnMap, Row
from timesheets.models import MappingKind


def memo(parser: Callable[..., Any], **kwargs: Any) -> Callable[[str], Any]:
    """``parser`` with its results (and errors) remembered: dates and durations repeat a lot."""
    cache: dict[str, Any] = {}

    def parse(text: str) -> Any:
        try:
            result = cache[text]
        except KeyError:
            try:
                result = parser(text, **kwargs)
            except InvalidValue as error:
                result = error
            cache[text] = result
        if isinstance(result, InvalidValue):
            raise result
        return result

    return parse


class Lines:
    """Collects errors and warnings, and the lines of each unmapped Kimai name."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.unmapped: dict[tuple[MappingKind, str], list[int]] = {}
        #: Headers of the file for the rules checked after parsing (date, staff, member...).
        self.labels: dict[str, str] = {}

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def unmapped_name(self, kind: MappingKind, external: str, line: int) -> None:
        self.unmapped.setdefault((kind, external), []).append(line)


def lines_text(lines: list[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:5])
    if len(lines) > 5:
        shown += f" et {plural(len(lines) - 5, 'autre')}"
    return ("ligne " if len(lines) == 1 else "lignes ") + shown


#: What a resolver gives for one distinct text: the value, or None and the French reason.
Resolved = tuple[Any, str | None]


def column_texts(rows: list[Row], index: int | None) -> list[str]:
    """The cells of one column ("" everywhere when the file has no such column)."""
    if index is None:
        return [""] * len(rows)
    return [row.values[index] for row in rows]


def resolved(values: list[Any], resolve: Callable[[Any], Resolved]) -> list[Resolved]:
    """``resolve`` applied to each distinct value once, its result given to every line."""
    cache: dict[Any, Resolved] = {}
    result: list[Resolved] = []
    append = result.append
    for value in values:
        found = cache.get(value)
        if found is None:
            found = cache[value] = resolve(value)
        append(found)
    return result


def parsed(parser: Callable[..., Any], **kwargs: Any) -> Callable[[str], Resolved]:
    """A parser of :mod:`imports.parsing` as a resolver (its InvalidValue becomes the reason)."""

    def resolve(text: str) -> Resolved:
        try:
            return parser(text, **kwargs), None
        except InvalidValue as error:
            return None, error.message

    return resolve


def getter(cols: ColumnMap) -> Callable[[Row, str], str]:
    indexes = dict(cols)

    def get(row: Row, name: str) -> str:
        index = indexes.get(name)
        return "" if index is None else row.values[index]

    return get


def parse_cell(out: Lines, line: int, column: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except InvalidValue as error:
        out.errors.append(error.at(line, column))
        return None
