"""The print helpers of the workbooks: page setup, measured widths, heights of wrapped rows."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from accounting.workbooks.printing import (
    LINE_HEIGHT,
    fit_widths,
    lines_needed,
    row_height,
    setup_page,
)


def test_a_short_text_takes_one_line_and_a_long_one_wraps_on_words() -> None:
    assert lines_needed("Charges", 12) == 1
    # 40 characters in a 20-wide column: usable (20 - 1) / 0.85 ≈ 22.4 characters per line,
    # « Frais de structure répartis » (28) does not fit on one line, the words go to two.
    assert lines_needed("Frais de structure répartis au prorata", 20) == 2
    # an explicit line break counts as a line
    assert lines_needed("1 rue du Port\n01600 Trévoux", 40) == 2
    # a word longer than the column is broken by the spreadsheet: 30 characters at 10 wide
    # (about 10.6 a line) take 3 lines
    assert lines_needed("developpement@valhorizon.examp", 10) == 3


def test_a_row_is_as_tall_as_its_tallest_wrapped_cell() -> None:
    assert row_height(["Code", "Adhérent"], [10, 20]) is None
    assert row_height(["Frais de structure répartis au prorata", "x"], [20, 10]) == (
        2 * LINE_HEIGHT
    )
    # numbers never wrap
    assert row_height([Decimal("123456789012345.12"), "ok"], [5, 10]) is None


def test_widths_fit_the_widest_value_and_the_longest_header_word() -> None:
    widths = fit_widths(
        ["Code", "Montant exact — 20 % part égale"],
        [["AIDVS", Decimal("1704.119499")], ["SERVEMPLOI", Decimal("263.819")]],
        places=[0, 6], maximum=[30, 30],
    )
    # « SERVEMPLOI » (10) + 2 of padding; « 1,704.119499 € » (14) + 2
    assert widths == [12.0, 16.0]
    # a long value stops at the column's maximum (its text wraps there)
    assert fit_widths(["Libellé"], [["x" * 80]], maximum=40) == [40.0]
    # a header word wider than the values: « Adhérent » in bold (8 × 1.12) + 2
    assert fit_widths(["Adhérent"], [["A"]], minimum=1) == [11.0]
    assert fit_widths(["Date"], [[date(2026, 12, 2)]]) == [12.0]  # 02/12/2026 + 2


def _reloaded(workbook: Workbook) -> Workbook:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def test_the_page_setup_is_a4_landscape_fit_to_width_with_titles_and_page_numbers() -> None:
    for write_only in (False, True):
        workbook = Workbook(write_only=write_only)
        sheet = workbook.create_sheet("Journal")
        setup_page(sheet, title_rows=4)
        for n in range(6):
            sheet.append([f"ligne {n}"])
        loaded = _reloaded(workbook)["Journal"]
        setup = loaded.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape")  # 9: A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)  # never one page tall
        assert loaded.sheet_properties.pageSetUpPr.fitToPage is True
        assert loaded.print_title_rows == "$4:$4"
        assert loaded.oddFooter.center.text == "Page &P / &N"
        assert loaded.oddHeader.center.text == "&A"
