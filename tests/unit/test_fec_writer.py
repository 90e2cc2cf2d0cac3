"""The FEC writer, its name and its formats (no database)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounting.fec import (
    FEC_COLUMNS,
    FecError,
    FecLine,
    add_months,
    detect_separator,
    fec_filename,
    fiscal_year_start,
    format_fec_amount,
    format_fec_date,
    parse_fec_amount,
    parse_fec_date,
    parse_fec_filename,
    write_fec,
)
from accounting.fec_check import check_fec

D = Decimal


def sale(num: str = "VT000001", day: date = date(2025, 3, 14)) -> list[FecLine]:
    """A sale of 1 000,00 + 200,00 VAT to member A01, validated three days later."""
    valid = day + timedelta(days=3)
    text = "Facture 2025-0001"
    return [
        FecLine("VT", "Ventes", num, day, "411A01", "Adhérent A01", "A01", "Association A",
                "2025-0001", day, text, D("1200.00"), D("0.00"), "", None, valid),
        FecLine("VT", "Ventes", num, day, "706100", "Prestations comptabilité", "", "",
                "2025-0001", day, text, D("0.00"), D("1000.00"), "", None, valid),
        FecLine("VT", "Ventes", num, day, "44571", "TVA collectée", "", "", "2025-0001", day,
                text, D("0.00"), D("200.00"), "", None, valid),
    ]  # fmt: skip


def test_the_18_columns_are_those_of_the_norm_in_order() -> None:
    assert FEC_COLUMNS == (
        "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
        "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
        "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
    )  # fmt: skip


def test_writer_puts_header_then_tab_separated_lines_with_crlf() -> None:
    out = io.BytesIO()
    count = write_fec(sale(), out)
    text = out.getvalue().decode("iso-8859-15")
    lines = text.split("\r\n")
    assert count == 3
    assert lines[0] == "\t".join(FEC_COLUMNS)
    assert lines[1] == (
        "VT\tVentes\tVT000001\t20250314\t411A01\tAdhérent A01\tA01\tAssociation A\t2025-0001\t"
        "20250314\tFacture 2025-0001\t1200,00\t0,00\t\t\t20250317\t\t"
    )
    assert lines[3].split("\t")[11:13] == ["0,00", "200,00"]
    assert lines[4] == ""  # the last line ends with CR LF too
    assert len(lines) == 5


def test_writer_can_end_lines_with_lf_and_refuses_other_endings() -> None:
    out = io.BytesIO()
    write_fec(sale(), out, newline="\n")
    assert b"\r" not in out.getvalue()
    assert out.getvalue().count(b"\n") == 4
    with pytest.raises(FecError):
        write_fec(sale(), io.BytesIO(), newline="\r")


def test_writer_encodes_latin9_and_replaces_what_latin9_lacks() -> None:
    line = sale()[0]._replace(ecriture_lib="L’été — œuvre à 100 €")
    out = io.BytesIO()
    write_fec([line], out)
    body = out.getvalue().split(b"\r\n")[1]
    assert "L'été - œuvre à 100 €".encode("iso-8859-15") in body


def test_writer_keeps_a_label_with_tab_or_line_break_on_one_line() -> None:
    line = sale()[0]._replace(ecriture_lib="Ligne\tavec\r\ncoupures", comp_aux_lib=None)
    out = io.BytesIO()
    write_fec([line], out)
    rows = out.getvalue().decode("iso-8859-15").split("\r\n")
    assert len(rows) == 3
    fields = rows[1].split("\t")
    assert len(fields) == 18
    assert fields[10] == "Ligne avec  coupures"
    assert fields[7] == ""


def test_writer_formats_currency_amounts_with_sign_and_comma() -> None:
    line = sale()[0]._replace(montant_devise=D("-100"), idevise="USD", date_let=date(2025, 4, 1),
                              ecriture_let="AA")  # fmt: skip
    out = io.BytesIO()
    write_fec([line], out)
    fields = out.getvalue().decode("iso-8859-15").split("\r\n")[1].split("\t")
    assert fields[13:] == ["AA", "20250401", "20250317", "-100,00", "USD"]


def test_a_written_file_passes_our_own_validator(tmp_path) -> None:
    path = tmp_path / fec_filename("123456782", date(2025, 12, 31))
    with open(path, "wb") as handle:
        write_fec([*sale("VT000001"), *sale("VT000002", date(2025, 6, 1))], handle)
    assert check_fec(path) == []


def test_filename_is_siren_fec_closing_date() -> None:
    assert fec_filename("123 456 782", date(2025, 12, 31)) == "123456782FEC20251231.txt"


@pytest.mark.parametrize("siren", ["987654321", "12345678", "", "ABCDEFGHI"])
def test_filename_refuses_an_invalid_siren(siren: str) -> None:
    with pytest.raises(FecError, match="SIREN"):
        fec_filename(siren, date(2025, 12, 31))


def test_filename_is_read_back_with_siren_check_and_suffix() -> None:
    good = parse_fec_filename("123456782FEC20251231.txt")
    assert good is not None
    assert (good.siren, good.closing_date, good.siren_valid, good.suffix) == (
        "123456782", date(2025, 12, 31), True, ""
    )
    broken = parse_fec_filename("/x/987654321FEC20251231-broken.txt")
    assert broken is not None
    assert (broken.siren_valid, broken.suffix) == (False, "-broken")
    assert parse_fec_filename("123456782FEC20250230.txt").closing_date is None
    assert parse_fec_filename("export.txt") is None


@pytest.mark.parametrize(
    ("closing", "start"),
    [
        (date(2025, 12, 31), date(2025, 1, 1)),
        (date(2022, 8, 31), date(2021, 9, 1)),
        (date(2024, 2, 29), date(2023, 3, 1)),
        (date(2025, 6, 30), date(2024, 7, 1)),
    ],
)
def test_fiscal_year_starts_twelve_months_before_the_day_after_closing(closing, start) -> None:
    assert fiscal_year_start(closing) == start


def test_add_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 3, 15), -3) == date(2024, 12, 15)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1200,00", D("1200.00")),
        ("0000000069,60", D("69.60")),
        ("-100,00", D("-100.00")),
        ("12", D("12")),
        ("100.00", None),
        ("1 200,00", None),
        ("", None),
        ("12,", None),
        ("١٢,٠٠", None),
    ],
)
def test_amounts_are_read_only_with_a_decimal_comma(text: str, value: Decimal | None) -> None:
    assert parse_fec_amount(text) == value


def test_amounts_and_dates_are_written_as_the_norm_says() -> None:
    assert format_fec_amount(D("1200")) == "1200,00"
    assert format_fec_amount(D("0.5")) == "0,50"
    assert format_fec_amount(None) == ""
    assert format_fec_date(date(2025, 1, 5)) == "20250105"
    assert format_fec_date(None) == ""


@pytest.mark.parametrize("text", ["20250230", "2025-01-15", "2025011", "abcdefgh", ""])
def test_dates_that_are_not_real_yyyymmdd_are_refused(text: str) -> None:
    assert parse_fec_date(text) is None


def test_separator_is_tab_or_pipe_whichever_splits_the_header() -> None:
    assert detect_separator("\t".join(FEC_COLUMNS)) == "\t"
    assert detect_separator("|".join(FEC_COLUMNS)) == "|"
    assert detect_separator(";".join(FEC_COLUMNS)) is None
