"""Fuzzing the file reader every importer starts with: random bytes, CSV and XLSX files mutated
from real exports and from generated workbooks. The only acceptable outcomes are a table whose
rows fit its header, or an ImportRefused with clear French messages — never another exception.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imports.errors import ImportRefused
from imports.tabular import Table, read_table
from tests.fuzz.strategies import (
    SAMPLES,
    cell_text,
    count,
    csv_bytes,
    fuzz_settings,
    mutated,
    mutated_workbook,
    workbook_bytes,
    xlsx_cell,
)

CSV_SAMPLES = sorted(p for p in (SAMPLES / "timesheets").rglob("*.csv"))
NAMES = ["temps.csv", "temps.xlsx", "export.txt", "sans-extension", "temps.tsv", "classeur.xlsm"]


def read_or_refuse(data: bytes, name: str) -> Table | None:
    """Read ``data``; check what comes out. Any exception other than ImportRefused fails."""
    count("file reader (CSV/XLSX)")
    try:
        table = read_table(data, name)
    except ImportRefused as refused:
        assert refused.errors, "a refusal names at least one reason"
        for error in refused.errors:
            assert error.message.strip(), "every reason has a message"
            assert "Traceback" not in error.message
            assert error.row is None or error.row >= 1
        assert str(refused).strip()
        return None
    assert table.header
    width = len(table.header)
    previous = table.header_line
    for row in table.rows:
        assert len(row.values) == width
        assert row.line > previous, "line numbers increase, after the header"
        previous = row.line
    return table


@fuzz_settings(share=1.0)
@given(data=st.binary(max_size=4096), name=st.sampled_from(NAMES))
def test_random_bytes_are_read_or_refused_clearly(data: bytes, name: str) -> None:
    read_or_refuse(data, name)


@fuzz_settings(share=1.0)
@given(data=st.data(), name=st.sampled_from(["temps.csv", "export.txt"]))
def test_real_timesheet_exports_mutated_are_read_or_refused_clearly(
    data: st.DataObject, name: str
) -> None:
    path = data.draw(st.sampled_from(CSV_SAMPLES), label="sample")
    read_or_refuse(data.draw(mutated(path.read_bytes())), name)


@fuzz_settings(share=0.5)
@given(
    rows=st.lists(st.lists(cell_text, min_size=1, max_size=8), min_size=1, max_size=12),
    separator=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_generated_csv_in_any_encoding_is_read_or_refused_clearly(
    rows: list[list[str]], separator: str, encoding: str
) -> None:
    read_or_refuse(csv_bytes(rows, separator, encoding), "temps.csv")


@fuzz_settings(share=0.5)
@given(rows=st.lists(st.lists(xlsx_cell, min_size=1, max_size=6), min_size=1, max_size=8))
def test_generated_workbooks_are_read_or_refused_clearly(rows: list[list[object]]) -> None:
    read_or_refuse(workbook_bytes(rows), "temps.xlsx")


@fuzz_settings(share=1.0)
@given(data=st.data())
def test_mutated_workbooks_are_read_or_refused_clearly(data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(st.lists(xlsx_cell, min_size=2, max_size=4), min_size=2, max_size=4),
        label="rows",
    )
    seed = workbook_bytes([["Date", "Intervenant", "Durée", "Note"], *rows])
    read_or_refuse(data.draw(mutated_workbook(seed)), data.draw(st.sampled_from(NAMES)))
