"""User text never becomes a formula in an export (DESIGN §7.9)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from accounting.workbooks.cells import put_text, safe_text, starts_formula, text_cell

DANGEROUS = ["=1+1", "+33 6 12", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")", "\tx"]


def reopen(workbook: Workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_put_in_a_cell_comes_back_as_the_same_text_never_a_formula(text: str) -> None:
    workbook = Workbook()
    put_text(workbook.active["A1"], text)
    cell = reopen(workbook).active["A1"]
    assert cell.data_type == "s"
    assert cell.value == text


@pytest.mark.parametrize("text", DANGEROUS)
def test_write_only_text_cells_stay_text(text: str) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Feuille")
    sheet.append([text_cell(sheet, text), 12])
    cell = reopen(workbook)["Feuille"]["A1"]
    assert cell.data_type == "s"
    assert cell.value == text


def test_safe_text_prefixes_an_apostrophe_only_where_a_formula_could_start() -> None:
    assert safe_text("=1+1") == "'=1+1"
    assert safe_text("@x") == "'@x"
    assert safe_text("Val Horizon") == "Val Horizon"
    assert safe_text(None) == ""
    assert safe_text(12) == "12"


def test_plain_names_are_not_flagged_as_formulas() -> None:
    assert not starts_formula("Les Jardins de la Dombes")
    assert not starts_formula(None)
    assert starts_formula("-5")
