"""The split of an entry's counterparts over its imported costs (pure, no database).

What holds, for any integer cents (rows: the costs, of any sign, never zero; columns: the
counterparts, of any sign, not adding up to zero):

* each row adds up exactly to its cost;
* each column adds up exactly to its counterpart when every line of the entry is imported
  (no residual), and to within one cent of its exact proportional part otherwise;
* every cell is the floor or the ceiling of its exact value ``r_i × c_j / Σc`` (so within one
  cent of it, strictly), and a cell whose exact value is whole is that value.

The exact values are computed here with ``fractions.Fraction``, not by the module.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.counterpart_split import Share, rescale, round_matrix, split_costs

D = Decimal
nonzero = st.integers(min_value=-10_000_000, max_value=10_000_000).filter(bool)
rows_st = st.lists(nonzero, min_size=1, max_size=8)
columns_st = st.lists(nonzero, min_size=1, max_size=8).filter(lambda c: sum(c) != 0)


def _check_cells(rows: list[int], columns: list[int], cells: list[list[int]]) -> None:
    total = sum(columns)
    assert len(cells) == len(rows)
    for row, line in zip(rows, cells, strict=True):
        assert sum(line) == row
        for column, cell in zip(columns, line, strict=True):
            exact = Fraction(row * column, total)
            assert math.floor(exact) <= cell <= math.ceil(exact)


@settings(max_examples=400, deadline=None)
@given(rows_st, columns_st)
def test_a_balanced_entry_is_split_exactly_on_both_margins(rows, columns) -> None:
    # Every line imported: the costs add up to the counterparts (the last cost balances).
    rows = [*rows, sum(columns) - sum(rows)]
    rows = [row for row in rows if row]
    cells = round_matrix(rows, columns)
    _check_cells(rows, columns, cells)
    for j, column in enumerate(columns):
        assert sum(line[j] for line in cells) == column


@settings(max_examples=400, deadline=None)
@given(rows_st, columns_st)
def test_with_lines_left_aside_each_column_is_its_imported_part(rows, columns) -> None:
    cells = round_matrix(rows, columns)
    _check_cells(rows, columns, cells)
    total = sum(columns)
    for j, column in enumerate(columns):
        imported = Fraction(column * sum(rows), total)
        assert abs(sum(line[j] for line in cells) - imported) < 1


def test_the_payroll_entry_of_the_example() -> None:
    # 641 3 000,00 and 645 1 200,00 against 421 2 300,00 and 431 1 900,00 (total 4 200,00):
    # 641 takes 3000 × 2300 / 4200 = 1642,857… of 421, 645 takes 1200 × 2300 / 4200 = 657,142…
    split = split_costs(
        [D("3000.00"), D("1200.00")], [("421000", D("2300.00")), ("431000", D("1900.00"))], "471000"
    )
    assert split == [
        [Share("421000", D("1642.86")), Share("431000", D("1357.14"))],
        [Share("421000", D("657.14")), Share("431000", D("542.86"))],
    ]  # fmt: skip


def test_deductible_vat_is_a_negative_share() -> None:
    # 6064 100,00 + 44566 20,00 against 401F1 120,00: the cost stays 100,00 (excl. tax).
    assert split_costs(
        [D("100.00")], [("401F1", D("120.00")), ("445660", D("-20.00"))], "471000"
    ) == [[Share("401F1", D("120.00")), Share("445660", D("-20.00"))]]


def test_costs_that_offset_one_another_go_through_suspense_which_clears() -> None:
    # 641 moved from one service to another: no balance-sheet line in the entry.
    split = split_costs([D("100.00"), D("-100.00")], [], "471000")
    assert split == [[Share("471000", D("100.00"))], [Share("471000", D("-100.00"))]]


def test_an_entry_whose_costs_all_cancel_out_has_nothing_to_split() -> None:
    assert split_costs([], [("421000", D("10.00")), ("431000", D("-10.00"))], "471000") == []


def test_three_equal_thirds() -> None:
    # 0,10 € of three costs of 0,01 + … : 1 cent each way, margins exact.
    cells = round_matrix([1, 1, 1], [1, 1, 1])
    assert [sum(line) for line in cells] == [1, 1, 1]
    assert [sum(column) for column in zip(*cells, strict=True)] == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(nonzero, st.lists(nonzero, min_size=1, max_size=6).filter(lambda c: sum(c) != 0))
def test_an_edited_amount_keeps_the_counterparts_in_proportion(amount, old) -> None:
    shares = [Share(f"4{n:05d}", D(c).scaleb(-2)) for n, c in enumerate(old)]
    new = rescale(D(amount).scaleb(-2), shares)
    assert sum(share.amount for share in new) == D(amount).scaleb(-2)
    for share in new:
        (before,) = [s.amount for s in shares if s.account == share.account]
        exact = Fraction(int(before * 100) * amount, sum(old))
        assert math.floor(exact) <= share.amount * 100 <= math.ceil(exact)
