"""Fuzzing the parsers of typed-in values: amounts, durations, dates, numbers, period codes,
allocation keys, FEC amounts and dates. Whatever the text, each returns a value in its range or
raises its own typed error with a French message — never another exception (a 500 at the edge).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import format_key, parse_key
from accounting.fec import FecError, parse_fec_amount, parse_fec_date
from accounting.money import MAX_AMOUNT, MoneyError, parse_amount
from accounting.periods import PeriodError, parse_period_code
from imports.errors import InvalidValue
from imports.parsing import parse_date, parse_decimal, parse_duration, parse_int
from tests.fuzz.strategies import NASTY, cell_text, count, fuzz_settings

TEXT = st.one_of(
    cell_text,
    st.text(max_size=60),
    st.sampled_from([n.decode("utf-8", "replace") for n in NASTY]),
    st.from_regex(r"[+-]?[0-9 .,']{1,40}(€|EUR)?", fullmatch=True),
    st.from_regex(r"\d{1,3}(\.\d{3})*,\d{1,4}", fullmatch=True),
    st.from_regex(r"\d{4}(-(\d{1,2}|[TtQq]\d))?", fullmatch=True),
    st.from_regex(r"(\d{1,3} ?% ?)?(equal|fixed|revenue|headcount|hours|units)( ?\+ ?"
                  r"\d{1,3} ?% ?(equal|hours|units|revenue))*", fullmatch=True),
)


def _amount(value: Decimal) -> None:
    assert abs(value) <= MAX_AMOUNT


def _duration(minutes: int) -> None:
    assert isinstance(minutes, int) and 0 <= minutes <= 24 * 60


def _date(day: date) -> None:
    assert 1900 <= day.year <= 2100


def _period(result: tuple[Any, date, date]) -> None:
    assert result[1] <= result[2]


def _key(key: Any) -> None:
    assert parse_key(format_key(key)) == key  # what is shown reads back the same


PARSERS: dict[str, tuple[Callable[[str], Any], type[Exception] | tuple[type[Exception], ...],
                         Callable[[Any], None]]] = {
    "parse_amount": (parse_amount, MoneyError, _amount),
    "parse_duration": (parse_duration, InvalidValue, _duration),
    "parse_date": (parse_date, InvalidValue, _date),
    "parse_decimal": (parse_decimal, InvalidValue, lambda v: None),
    "parse_int": (parse_int, InvalidValue, lambda v: None),
    "parse_period_code": (parse_period_code, PeriodError, _period),
    "parse_key": (parse_key, AllocationError, _key),
    "parse_fec_amount": (parse_fec_amount, FecError, lambda v: None),
    "parse_fec_date": (parse_fec_date, FecError, lambda v: None),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_parser_returns_a_value_in_range_or_its_own_error(name: str) -> None:
    parse, error, check = PARSERS[name]

    @fuzz_settings(share=0.25)
    @given(text=TEXT)
    def run(text: str) -> None:
        count("value parsers")
        try:
            value = parse(text)
        except error as refused:
            assert str(refused).strip()
            return
        if value is not None:
            check(value)

    run()


@pytest.mark.parametrize(
    "text", ["1 000 000 000 000", "999999999999999999999999999999", "-10 000 000 000 000,00"]
)
def test_an_amount_larger_than_the_database_holds_is_refused_in_french(text: str) -> None:
    with pytest.raises(MoneyError, match="montant trop grand"):
        parse_amount(text)


def test_the_largest_amount_stored_is_accepted() -> None:
    assert parse_amount("999 999 999 999,99") == MAX_AMOUNT
