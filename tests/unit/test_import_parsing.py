"""The cell parsers of the import toolkit: every accepted form, and every refused one."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from imports.errors import ErrorList, ImportRefused, InvalidValue, RowError
from imports.parsing import (
    InvalidDate,
    InvalidDuration,
    InvalidNumber,
    format_minutes,
    parse_date,
    parse_decimal,
    parse_duration,
    parse_int,
)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1,5", 90),
        ("1.5", 90),
        ("1h30", 90),
        ("1:30", 90),
        ("90m", 90),
        ("90 min", 90),
        ("45mn", 45),
        ("2", 120),
        ("1h", 60),
        ("1 h 30", 90),
        ("1H30", 90),
        ("1h30m", 90),
        ("1,5h", 90),
        (",5", 30),
        ("0,25", 15),
        ("0:06", 6),
        ("0:06:40", 7),  # Kimai 2.33 h:mm:ss, 6 min 40 s rounds half-up to 7
        ("0:06:29", 6),
        ("0.11", 7),  # Kimai decimal hours: 6.6 min
        ("24", 1440),
        (" 1h30 ", 90),
        ("1\u00a0h\u00a030", 90),
        (timedelta(hours=1, minutes=30), 90),
        (time(1, 30), 90),
        (1.5, 90),
        (2, 120),
    ],
)
def test_accepted_durations_are_read_as_minutes(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "illisible"),
        ("1e9", "illisible"),
        ("--", "illisible"),
        ("1,5,5", "illisible"),
        ("1:75", "illisible"),
        ("1h60", "illisible"),
        ("h", "illisible"),
        ("nan", "illisible"),
        ("inf", "illisible"),
        ("0", "supérieure à zéro"),
        ("0:00", "supérieure à zéro"),
        ("0m", "supérieure à zéro"),
        ("0,001", "supérieure à zéro"),
        ("-1", "négative"),
        ("-0:06", "négative"),
        ("−1h", "négative"),
        ("25", "plus de 24h"),
        ("24:01", "plus de 24h"),
        ("100000m", "plus de 24h"),
        (timedelta(hours=30), "plus de 24h"),
        (timedelta(minutes=-5), "négative"),
        ("", "manquante"),
        (None, "manquante"),
        (True, "illisible"),
        (1e9, "illisible"),
    ],
)
def test_bad_durations_are_refused_with_a_french_reason(text, reason):
    with pytest.raises(InvalidDuration) as caught:
        parse_duration(text)
    assert reason in caught.value.message


def test_a_duration_limit_can_be_lowered():
    assert parse_duration("2h", max_minutes=120) == 120
    with pytest.raises(InvalidDuration, match="plus de 2h"):
        parse_duration("2h01", max_minutes=120)


def test_the_message_of_a_huge_cell_is_cut():
    with pytest.raises(InvalidDuration) as caught:
        parse_duration("x" * 5000)
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(
    ("minutes", "shown"), [(90, "1h30"), (120, "2h"), (5, "0h05"), (0, "0h"), (-90, "-1h30")]
)
def test_minutes_are_formatted_the_way_users_type_them(minutes, shown):
    assert format_minutes(minutes) == shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-05", date(2026, 3, 5)),
        ("05/03/2026", date(2026, 3, 5)),
        ("5/3/2026", date(2026, 3, 5)),
        ("05.03.2026", date(2026, 3, 5)),
        ("05-03-2026", date(2026, 3, 5)),
        ("05/03/26", date(2026, 3, 5)),
        ("2026-03-05 10:30:00", date(2026, 3, 5)),
        ("2026-03-05T10:30", date(2026, 3, 5)),
        ("05/03/2026 10:30", date(2026, 3, 5)),
        ("20260305", date(2026, 3, 5)),
        ("46086", date(2026, 3, 5)),  # an Excel serial read as text
        (46086, date(2026, 3, 5)),
        (46086.75, date(2026, 3, 5)),
        (date(2026, 3, 5), date(2026, 3, 5)),
        (datetime(2026, 3, 5, 23, 59), date(2026, 3, 5)),
        ("29/02/2028", date(2028, 2, 29)),
    ],
)
def test_accepted_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "illisible"),
        ("2026/03/05/01", "illisible"),
        ("03-2026", "illisible"),
        ("31/02/2026", "inexistante"),
        ("29/02/2026", "inexistante"),
        ("2026-13-01", "inexistante"),
        ("00/01/2026", "inexistante"),
        ("01/01/1800", "hors limites"),
        ("01/01/2999", "hors limites"),
        (10**9, "illisible"),
        ("", "manquante"),
        (None, "manquante"),
        (True, "illisible"),
    ],
)
def test_bad_dates_are_refused(value, reason):
    with pytest.raises(InvalidDate) as caught:
        parse_date(value)
    assert reason in caught.value.message


def test_the_year_range_of_dates_can_be_narrowed():
    with pytest.raises(InvalidDate, match="entre 2020 et 2030"):
        parse_date("2019-12-31", min_year=2020, max_year=2030)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1 234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1\u00a0234,56", Decimal("1234.56")),
        ("1\u202f234,56", Decimal("1234.56")),
        ("1 234 567,8", Decimal("1234567.8")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234.567", Decimal("1234567")),
        ("1,234", Decimal("1.234")),  # one comma is the French decimal mark
        ("-12,5", Decimal("-12.5")),
        ("−12,5", Decimal("-12.5")),
        ("+3", Decimal("3")),
        ("12,50 €", Decimal("12.50")),
        ("€12.50", Decimal("12.50")),
        ("12,50 EUR", Decimal("12.50")),
        (",5", Decimal("0.5")),
        ("0", Decimal("0")),
        (12, Decimal("12")),
        (0.1, Decimal("0.1")),
        (Decimal("3.14"), Decimal("3.14")),
    ],
)
def test_accepted_decimals_are_exact(value, expected):
    result = parse_decimal(value)
    assert result == expected
    assert isinstance(result, Decimal)


def test_decimal_keeps_its_written_places():
    assert str(parse_decimal("12,50")) == "12.50"


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1e5",
        "nan",
        "NaN",
        "inf",
        "1..2",
        "1,2,3",
        "12 3",
        "1 2345",
        "1.234,5.6",
        "--1",
        "1-",
        "",
        " ",
        None,
        True,
        "1" * 30,
        Decimal("NaN"),
    ],
)
def test_bad_decimals_are_refused(value):
    with pytest.raises(InvalidNumber):
        parse_decimal(value)


def test_decimal_bounds_and_places():
    assert parse_decimal("12,30", max_places=2) == Decimal("12.30")
    assert parse_decimal("12,300", max_places=2) == Decimal("12.3")
    with pytest.raises(InvalidNumber, match="au plus 2"):
        parse_decimal("12,345", max_places=2)
    with pytest.raises(InvalidNumber, match="négatif"):
        parse_decimal("-1", allow_negative=False)
    with pytest.raises(InvalidNumber, match="au moins 1"):
        parse_decimal("0,5", minimum=Decimal(1))
    with pytest.raises(InvalidNumber, match="au plus 10"):
        parse_decimal("10,01", maximum=Decimal(10))


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), ("1 234", 1234), ("12,0", 12), ("-3", -3), (7, 7)]
)
def test_accepted_integers(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize("value", ["1,5", "abc", "", "1e3", "0.1"])
def test_bad_integers_are_refused(value):
    with pytest.raises(InvalidNumber):
        parse_int(value)


def test_integer_bounds():
    with pytest.raises(InvalidNumber, match="au moins 1"):
        parse_int("0", minimum=1)
    with pytest.raises(InvalidNumber, match="au plus 9"):
        parse_int("10", maximum=9)


def test_parse_errors_are_import_errors_and_value_errors():
    with pytest.raises(InvalidDuration) as caught:
        parse_duration("abc")
    assert isinstance(caught.value, InvalidValue)
    assert isinstance(caught.value, ImportRefused)
    assert isinstance(caught.value, ValueError)
    assert caught.value.at(4, "Durée") == RowError(4, "Durée", caught.value.message)


def test_an_error_list_collects_every_bad_cell_and_keeps_good_values():
    errors = ErrorList()
    assert errors.parse(2, "Durée", parse_duration, "1h30") == 90
    assert errors.parse(3, "Durée", parse_duration, "abc") is None
    assert errors.parse(3, "Date", parse_date, "31/02/2026") is None
    assert errors.parse(4, "Quantité", parse_int, "2", minimum=1) == 2
    assert len(errors) == 2
    with pytest.raises(ImportRefused) as caught:
        errors.raise_if_any()
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "Date"), (3, "Durée")]
