"""Reading a FEC someone else's software wrote, into validated rows.

Design: the reader is the validator's pass (``accounting.fec_check.scan_fec``) with rows
collected, so a file is read exactly as it is checked: tab or pipe, UTF-8 with or without BOM
or ISO-8859-15 (Windows-1252 when its bytes say so), CR LF or LF, padded fields, zero-padded
amounts, extra columns after the 18 (kept in ``FecRow.extra``), column names in any case, a
trailing separator, and quotes never special (a label may begin with ``"``).

Invariants: all or nothing — a file with any error is refused with every error, line by line
(``FecRefused.issues``), and no row is returned; the file name is not judged (an upload may
be called anything), nor the fiscal year; rules that do not change what a line means
(auxiliary label, an empty amount read as zero, the column order) are only warnings here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from accounting.fec import FecRow
from accounting.fec_check import ERROR, FecIssue, FecScan, RowSink, scan_fec
from imports.errors import ImportRefused, RowError

#: Rules that refuse a file in ``check-fec`` but only warn when importing.
IMPORT_LENIENT = frozenset({"aux_label", "empty_amount", "column_order"})


class FecRefused(ImportRefused):
    """The file cannot be imported: ``errors`` (``RowError``) holds every error line by line;
    ``issues`` the validator's records, warnings included (rule codes, severities)."""

    def __init__(self, issues: list[FecIssue]) -> None:
        self.issues = issues
        errors = [
            RowError(issue.line, issue.column, issue.message)
            for issue in issues
            if issue.severity == ERROR
        ]
        count = len(errors)
        super().__init__(
            errors,
            f"FEC refusé : {count} erreur{'s' if count > 1 else ''}, rien n'a été importé.",
        )


@dataclass(frozen=True, slots=True)
class FecFile:
    """A FEC read and validated: its rows, what was noticed, and how it was written."""

    rows: list[FecRow]
    warnings: list[FecIssue]
    encoding: str
    separator: str
    columns: tuple[str, ...]
    #: Names of the columns after the 18 (their values are ``FecRow.extra``, in this order).
    extra_columns: tuple[str, ...]
    entry_count: int
    total_debit: Decimal
    total_credit: Decimal


def read_fec(path: str | Path, *, encoding: str | None = None) -> FecFile:
    """Read the FEC at ``path``; raise ``FecRefused`` with every error if it is malformed or
    unbalanced. Every row is held (``FecFile.rows``): an import of a large file streams
    instead (:func:`stream_fec`).

    ``encoding`` forces one (by default it is detected from the bytes).
    """
    rows: list[FecRow] = []
    return replace(stream_fec(path, rows, encoding=encoding), rows=rows)


def stream_fec(
    path: str | Path, sink: RowSink, *, encoding: str | None = None,
    on_header: Callable[[FecScan], None] | None = None,
) -> FecFile:  # fmt: skip
    """Read the FEC at ``path`` handing each validated row to ``sink`` as it is read (the
    returned ``FecFile.rows`` is empty); raise ``FecRefused`` with every error if it is
    malformed or unbalanced — the sink then has received ``clear()``: what it aggregated
    from the rows before the error is worthless. ``on_header`` sees the scan once the header
    is read (its ``extra_columns``), before the first row."""
    scan = scan_fec(path, check_name=False, lenient=IMPORT_LENIENT, encoding=encoding,
                    sink=sink, on_header=on_header)  # fmt: skip
    if not scan.ok:
        raise FecRefused(scan.issues)
    assert scan.separator is not None
    return FecFile(
        rows=[],
        warnings=scan.warnings,
        encoding=scan.encoding,
        separator=scan.separator,
        columns=scan.columns,
        extra_columns=scan.extra_columns,
        entry_count=scan.entry_count,
        total_debit=scan.total_debit,
        total_credit=scan.total_credit,
    )
