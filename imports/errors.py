"""Errors of the import toolkit, returned as data.

Design (after beancount's ``ops/validation.py``): a file is checked entirely before anything is
written, and every problem becomes a small immutable record, :class:`RowError` (row, column,
message). Checks share one signature, ``check(item) -> Iterable[RowError]``, and
:func:`validate` runs them all and returns every error, not the first. An import that found
errors raises :class:`ImportRefused` carrying the whole list, so the UI and the CLI can show each
bad line at once and nothing is written (imports are all-or-nothing).

Invariants:
- ``RowError.row`` is the line number the user sees in their file (the header is line 1 for a
  CSV or a sheet whose header is on the first row); ``None`` for a problem of the whole file.
- ``RowError.message`` is French: it reaches the user as it is.
- :class:`ImportRefused` is the one base exception of the ``imports`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from accounting.wording import plural

T = TypeVar("T")
V = TypeVar("V")

#: How many errors ``str(ImportRefused)`` lists before saying "and N more".
SHOWN_IN_MESSAGE = 20


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found in an imported file."""

    #: Line number as the user sees it in their file (header = 1); None for the whole file.
    row: int | None
    #: Column name as written in the file's header (or the canonical name); None if not relevant.
    column: str | None
    #: What is wrong and, where possible, how to fix it, in French.
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column:
            where.append(f"colonne « {self.column} »")
        if not where:
            return self.message
        prefix = ", ".join(where)
        return f"{prefix[0].upper()}{prefix[1:]} : {self.message}"

    def sort_key(self) -> tuple[int, str]:
        """Whole-file errors first, then by line, then by column."""
        return (-1 if self.row is None else self.row, self.column or "")


class ImportRefused(Exception):
    """An import (or a file read) was refused; ``errors`` lists every reason.

    Base of every exception of the ``imports`` package: catching it is enough at the edge.
    """

    def __init__(
        self,
        errors: Iterable[RowError] | RowError | str,
        summary: str | None = None,
    ) -> None:
        if isinstance(errors, str):
            errors = [RowError(None, None, errors)]
        elif isinstance(errors, RowError):
            errors = [errors]
        self.errors: list[RowError] = sorted(errors, key=RowError.sort_key)
        self.summary = summary or _default_summary(len(self.errors))
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.errors) == 1 and self.errors[0].row is None and not self.errors[0].column:
            return self.errors[0].message
        lines = [self.summary]
        lines.extend(f"- {error}" for error in self.errors[:SHOWN_IN_MESSAGE])
        hidden = len(self.errors) - SHOWN_IN_MESSAGE
        if hidden > 0:
            lines.append(f"… et {plural(hidden, 'autre erreur')}.")
        return "\n".join(lines)

    @property
    def message(self) -> str:
        """The message of the first error (the only one for a single-value error)."""
        return self.errors[0].message if self.errors else self.summary


def _default_summary(count: int) -> str:
    if count == 1:
        return "Import refusé : 1 erreur, rien n'a été enregistré."
    return f"Import refusé : {count} erreurs, rien n'a été enregistré."


class InvalidValue(ImportRefused, ValueError):
    """One cell could not be read (a duration, a date, a number...).

    Raised by the parsers of :mod:`imports.parsing` with no row nor column: the importer knows
    them and turns the error into a :class:`RowError` with :meth:`at` (or uses
    :meth:`ErrorList.parse`, which does it).
    """

    def __init__(self, message: str) -> None:
        super().__init__(RowError(None, None, message))

    def at(self, row: int | None, column: str | None) -> RowError:
        return RowError(row, column, self.message)


#: A check takes one item (a parsed row, a whole file...) and yields what is wrong with it.
Check = Callable[[T], Iterable[RowError]]


def validate(items: Iterable[T], checks: Sequence[Check[T]]) -> list[RowError]:
    """Run every check over every item and return all the errors found, sorted by line.

    Nothing stops at the first error: the user fixes the whole file in one go.
    """
    items = list(items)
    errors: list[RowError] = []
    for check in checks:
        for item in items:
            errors.extend(check(item))
    errors.sort(key=RowError.sort_key)
    return errors


class ErrorList:
    """Collects errors while a file is read row by row; raises them all at the end.

    Usage in an importer::

        errors = ErrorList()
        for row in table.rows:
            minutes = errors.parse(row.line, "Durée", parse_duration, row[cols["duration"]])
            ...
        errors.raise_if_any()
    """

    def __init__(self) -> None:
        self._errors: list[RowError] = []

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self._errors.append(RowError(row, column, message))

    def extend(self, errors: Iterable[RowError]) -> None:
        self._errors.extend(errors)

    def parse(
        self,
        row: int | None,
        column: str | None,
        parser: Callable[..., V],
        value: Any,
        *args: Any,
        **kwargs: Any,
    ) -> V | None:
        """Return ``parser(value, ...)``, or record its error at (row, column) and return None."""
        try:
            return parser(value, *args, **kwargs)
        except InvalidValue as error:
            self._errors.append(error.at(row, column))
            return None

    def __len__(self) -> int:
        return len(self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def __iter__(self) -> Iterator[RowError]:
        return iter(sorted(self._errors, key=RowError.sort_key))

    def raise_if_any(self, summary: str | None = None) -> None:
        """Raise :class:`ImportRefused` with every error collected, if there is any."""
        if self._errors:
            raise ImportRefused(self._errors, summary)
