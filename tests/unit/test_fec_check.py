"""Our FEC validator: the samples, then each rule on a valid file with one defect (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from accounting.fec import FEC_COLUMNS
from accounting.fec_check import ERROR, RULES, WARNING, FecIssue, check_fec, scan_fec

DATA = Path(__file__).resolve().parent.parent / "data" / "fec"
NAME = "123456782FEC20251231.txt"

# A valid file: a sale (3 lines), a payment (2 lines), a purchase (2 lines).
VALID_ROWS = [
    "VT|Ventes|VT1|20250115|411A01|Adhérent A01|A01|Association A|F1|20250115|Facture F1|1200,00|0,00|||20250120||",  # noqa: E501
    "VT|Ventes|VT1|20250115|706100|Prestations|||F1|20250115|Facture F1|0,00|1000,00|||20250120||",
    "VT|Ventes|VT1|20250115|44571|TVA collectée|||F1|20250115|Facture F1|0,00|200,00|||20250120||",
    "BQ|Banque|BQ1|20250210|512|Banque|||R1|20250210|Règlement|1200,00|0,00|||20250211||",
    "BQ|Banque|BQ1|20250210|411A01|Adhérent A01|A01|Association A|R1|20250210|Règlement|0,00|1200,00|A|20250210|20250211||",  # noqa: E501
    "HA|Achats|HA1|20250301|6064|Fournitures|||FA1|20250228|Papier|50,00|0,00|||20250302||",
    "HA|Achats|HA1|20250301|401|Fournisseurs|F01|Papeterie|FA1|20250228|Papier|0,00|50,00|||20250302||",
]  # fmt: skip


def write(
    tmp_path: Path,
    rows: list[str],
    name: str = NAME,
    sep: str = "|",
    header: str | None = None,
    ending: str = "\n",
    encoding: str = "utf-8",
) -> Path:
    """A FEC file from pipe-separated rows (turned into ``sep``)."""
    head = header if header is not None else "|".join(FEC_COLUMNS)
    text = ending.join([head, *rows]) + ending
    path = tmp_path / name
    path.write_bytes(text.replace("|", sep).encode(encoding))
    return path


def with_field(row: int, column: str, value: str) -> list[str]:
    """VALID_ROWS with one field changed (row counted from 0, column by its norm name)."""
    rows = [line.split("|") for line in VALID_ROWS]
    rows[row][FEC_COLUMNS.index(column)] = value
    return ["|".join(fields) for fields in rows]


def found(issues: list[FecIssue]) -> list[tuple[int | None, str | None, str, str]]:
    return [(issue.line, issue.column, issue.rule, issue.severity) for issue in issues]


# ---------------------------------------------------------------------------------------------
# Samples


def test_the_valid_sample_has_no_issue() -> None:
    assert check_fec(DATA / "123456782FEC20251231.txt") == []


def test_the_broken_sample_shows_every_defect_line_by_line() -> None:
    issues = check_fec(DATA / "987654321FEC20251231-broken.txt")
    assert found(issues) == [
        # The name: a copy's suffix, then the SIREN whose Luhn key is wrong.
        (None, None, "filename", WARNING),
        (None, None, "siren", ERROR),
        # VT0001: debit 1 200,00, credits 1 000,00 + 190,00.
        (2, None, "entry_balance", ERROR),
        # 100.00 with a dot (AC0001's balance is then not judged).
        (5, "Debit", "amount", ERROR),
        # FRS001 without its label.
        (7, "CompAuxLib", "aux_label", ERROR),
        # Lettered « A » without DateLet; BQ0001 dated 10/02 on line 8, 11/02 on line 9.
        (9, "DateLet", "lettering_date", WARNING),
        (9, "EcritureDate", "entry_date", ERROR),
        # 30 February.
        (10, "EcritureDate", "date", ERROR),
        (11, "EcritureDate", "date", ERROR),
        # Empty CompteLib; USD without an amount in currency.
        (12, "CompteLib", "mandatory", ERROR),
        (12, "Montantdevise", "currency", WARNING),
        # Debit and credit of 50,00 on one line.
        (14, None, "debit_and_credit", ERROR),
        # AC0002 on 15/01/2026, after the closing, validated on 10/01/2026, before its date.
        (15, "EcritureDate", "fiscal_year", ERROR),
        (15, "ValidDate", "valid_date", WARNING),
        (16, "EcritureDate", "fiscal_year", ERROR),
        (16, "ValidDate", "valid_date", WARNING),
        # Debits 3 450,00 (without the unreadable 100.00) against credits 3 540,00.
        (None, None, "file_balance", ERROR),
    ]
    # The upstream validator's 12 errors and 4 warnings, plus the warning on the copy's name.
    assert sum(issue.severity == ERROR for issue in issues) == 12
    assert sum(issue.severity == WARNING for issue in issues) == 5
    assert "débit 1200,00, crédit 1190,00, écart 10,00" in issues[2].message
    assert "3450,00" in issues[-1].message and "3540,00" in issues[-1].message


def test_the_real_fiscal_year_with_bom_is_balanced_but_named_with_a_ten_digit_siren() -> None:
    scan = scan_fec(DATA / "0000000001FEC20220831.txt")
    assert scan.encoding == "utf-8-sig"
    assert (scan.line_count, scan.entry_count) == (5422, 2033)
    assert scan.total_debit == scan.total_credit
    assert [issue.rule for issue in scan.errors] == ["siren"]
    # Its other notes are lettered lines without a lettering date (warnings only).
    assert {issue.rule for issue in scan.warnings} == {"lettering_date"}


def test_the_padded_pipe_sample_is_read_but_its_name_says_another_year() -> None:
    scan = scan_fec(DATA / "111111111FEC20221231.TXT")
    assert (scan.encoding, scan.separator, scan.line_count) == ("iso-8859-15", "|", 934)
    assert scan.total_debit == scan.total_credit
    rules = [issue.rule for issue in scan.issues]
    assert rules[:3] == ["siren", "trailing_separator", "column_case"]
    # Its entries are dated 2023, its name closes 31/12/2022: every line is out of the year.
    assert rules[3:] == ["fiscal_year"] * 934


def test_with_the_fiscal_year_given_the_padded_sample_only_keeps_name_and_format_notes() -> None:
    issues = check_fec(DATA / "111111111FEC20221231.TXT", start=date(2023, 1, 1),
                       end=date(2023, 12, 31))  # fmt: skip
    assert [issue.rule for issue in issues] == ["siren", "trailing_separator", "column_case"]


# ---------------------------------------------------------------------------------------------
# One defect at a time


def test_a_valid_file_has_no_issue_with_either_separator_and_line_ending(tmp_path) -> None:
    assert check_fec(write(tmp_path, VALID_ROWS)) == []
    assert check_fec(write(tmp_path, VALID_ROWS, sep="\t", ending="\r\n")) == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (with_field(0, "CompteLib", ""), [(2, "CompteLib", "mandatory", ERROR)]),
        (with_field(3, "PieceRef", ""), [(5, "PieceRef", "mandatory", ERROR)]),
        (with_field(5, "ValidDate", ""), [(7, "ValidDate", "mandatory", ERROR)]),
        (with_field(5, "PieceDate", "20250229"), [(7, "PieceDate", "date", ERROR)]),
        (with_field(4, "DateLet", "2025-02-10"), [(6, "DateLet", "date", ERROR)]),
        (with_field(5, "Debit", "50.00"),
         [(7, "Debit", "amount", ERROR), (None, None, "file_balance", ERROR)]),
        (with_field(5, "Debit", "1 050,00"),
         [(7, "Debit", "amount", ERROR), (None, None, "file_balance", ERROR)]),
        (with_field(5, "Debit", "1" * 37 + ",00"),
         [(7, "Debit", "amount", ERROR), (None, None, "file_balance", ERROR)]),
        (with_field(5, "Debit", "-" + "9" * 16 + ",00"),
         [(7, "Debit", "amount", ERROR), (None, None, "file_balance", ERROR)]),
        (with_field(5, "Debit", ""),
         [(7, "Debit", "empty_amount", ERROR), (7, None, "entry_balance", ERROR),
          (None, None, "file_balance", ERROR)]),
        (with_field(1, "Debit", "5,00"),
         [(2, None, "entry_balance", ERROR), (3, None, "debit_and_credit", ERROR),
          (None, None, "file_balance", ERROR)]),
        (with_field(1, "Credit", "999,99"),
         [(2, None, "entry_balance", ERROR), (None, None, "file_balance", ERROR)]),
        (with_field(6, "CompAuxLib", ""), [(8, "CompAuxLib", "aux_label", ERROR)]),
        (with_field(4, "DateLet", ""), [(6, "DateLet", "lettering_date", WARNING)]),
        (with_field(5, "Idevise", "USD"), [(7, "Montantdevise", "currency", WARNING)]),
        (with_field(5, "Montantdevise", "60,00"), [(7, "Idevise", "currency", WARNING)]),
        (with_field(5, "Montantdevise", "60.00"), [(7, "Montantdevise", "amount", ERROR)]),
        (with_field(5, "Idevise", "usd"),
         [(7, "Montantdevise", "currency", WARNING), (7, "Idevise", "currency_code", WARNING)]),
        (with_field(6, "EcritureDate", "20250302"),
         [(8, "EcritureDate", "entry_date", ERROR)]),
        (with_field(5, "ValidDate", "20250201"), [(7, "ValidDate", "valid_date", WARNING)]),
        (with_field(0, "Debit", "-1200,00"),
         [(2, "Debit", "negative_amount", WARNING), (2, None, "entry_balance", ERROR),
          (None, None, "file_balance", ERROR)]),
    ],
)  # fmt: skip
def test_one_defect_gives_its_issue_at_its_line_and_column(tmp_path, rows, expected) -> None:
    assert found(check_fec(write(tmp_path, rows))) == expected


def test_dates_outside_the_fiscal_year_of_the_name(tmp_path) -> None:
    rows = with_field(5, "EcritureDate", "20260105")
    rows = ["|".join(f if i != 3 else "20260105" for i, f in enumerate(r.split("|")))
            if r.startswith("HA") else r for r in rows]  # fmt: skip
    rows[0:3] = [row.replace("|20250115|411", "|20241231|411").replace("|20250115|7", "|20241231|7")
                 .replace("|20250115|4", "|20241231|4") for row in rows[0:3]]  # fmt: skip
    assert found(check_fec(write(tmp_path, rows))) == [
        # Before an assumed start (12 months): a warning, the first year may be longer.
        (2, "EcritureDate", "fiscal_year_start", WARNING),
        (3, "EcritureDate", "fiscal_year_start", WARNING),
        (4, "EcritureDate", "fiscal_year_start", WARNING),
        # After the closing: an error; and validated before being dated.
        (7, "EcritureDate", "fiscal_year", ERROR),
        (7, "ValidDate", "valid_date", WARNING),
        (8, "EcritureDate", "fiscal_year", ERROR),
        (8, "ValidDate", "valid_date", WARNING),
    ]


def test_a_given_start_makes_earlier_dates_errors(tmp_path) -> None:
    path = write(tmp_path, VALID_ROWS)
    issues = check_fec(path, start=date(2025, 2, 1), end=date(2025, 12, 31))
    assert found(issues) == [(line, "EcritureDate", "fiscal_year", ERROR) for line in (2, 3, 4)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("987654321FEC20251231.txt", [(None, None, "siren", ERROR)]),
        ("0123456789FEC20251231.txt", [(None, None, "siren", ERROR)]),
        ("123456782FEC20251231 (1).txt", [(None, None, "filename", WARNING)]),
        ("123456782FEC20251231.csv", [(None, None, "filename", WARNING)]),
        ("export-compta.txt", [(None, None, "filename", WARNING)]),
        ("123456782FEC20251331.txt", [(None, None, "closing_date", ERROR)]),
    ],
)
def test_the_name_gives_siren_and_closing_date(tmp_path, name, expected) -> None:
    assert found(check_fec(write(tmp_path, VALID_ROWS, name=name))) == expected


def test_a_line_with_a_wrong_field_count_is_reported_and_skipped(tmp_path) -> None:
    rows = [*VALID_ROWS]
    rows[3] = rows[3].replace("|Règlement|", "|Règlement|du|")
    issues = check_fec(write(tmp_path, rows))
    assert found(issues) == [
        (5, None, "field_count", ERROR),
        (6, None, "entry_balance", ERROR),
        (None, None, "file_balance", ERROR),
    ]
    assert issues[0].message.startswith("19 champs trouvés, 18 attendus")


def test_header_problems(tmp_path) -> None:
    swapped = list(FEC_COLUMNS)
    swapped[11], swapped[12] = swapped[12], swapped[11]
    assert found(check_fec(write(tmp_path, VALID_ROWS, header="|".join(swapped)))) == [
        (1, None, "column_order", ERROR)
    ]
    missing = "|".join(FEC_COLUMNS[:-1])
    issues = check_fec(write(tmp_path, [row.rsplit("|", 1)[0] for row in VALID_ROWS],
                             header=missing))  # fmt: skip
    assert found(issues) == [(1, None, "columns", ERROR)]
    assert "Idevise" in issues[0].message
    assert found(check_fec(write(tmp_path, VALID_ROWS, header=";".join(FEC_COLUMNS)))) == [
        (1, None, "separator", ERROR)
    ]
    upper = "|".join(FEC_COLUMNS).replace("Montantdevise", "MontantDevise")
    assert found(check_fec(write(tmp_path, VALID_ROWS, header=upper))) == [
        (1, "Montantdevise", "column_case", WARNING)
    ]


def test_extra_columns_are_a_warning_except_the_cash_basis_ones(tmp_path) -> None:
    header = "|".join([*FEC_COLUMNS, "CodeAnalytique"])
    rows = [row + "|DEV" for row in VALID_ROWS]
    assert found(check_fec(write(tmp_path, rows, header=header))) == [
        (1, None, "extra_columns", WARNING)
    ]
    header = "|".join([*FEC_COLUMNS, "DateRglt", "ModeRglt", "NatOp", "IdClient"])
    rows = [row + "||||" for row in VALID_ROWS]
    assert check_fec(write(tmp_path, rows, header=header)) == []


def test_blank_lines_warn_in_the_middle_not_at_the_end(tmp_path) -> None:
    rows = [*VALID_ROWS[:3], "", *VALID_ROWS[3:], "", ""]
    assert found(check_fec(write(tmp_path, rows))) == [(5, None, "blank_line", WARNING)]


def test_an_empty_file_and_a_header_only_file(tmp_path) -> None:
    empty = tmp_path / NAME
    empty.write_bytes(b"")
    assert found(check_fec(empty)) == [(None, None, "unreadable", ERROR)]
    assert found(check_fec(write(tmp_path, []))) == [(None, None, "empty_file", WARNING)]


def test_montant_sens_layout_is_read(tmp_path) -> None:
    header = "|".join((*FEC_COLUMNS[:11], "Montant", "Sens", *FEC_COLUMNS[13:]))
    rows = []
    for row in VALID_ROWS:
        fields = row.split("|")
        debit, credit = fields[11], fields[12]
        fields[11:13] = [debit, "D"] if debit != "0,00" else [credit, "C"]
        rows.append("|".join(fields))
    assert check_fec(write(tmp_path, rows, header=header)) == []
    rows[1] = rows[1].replace("|1000,00|C|", "|1000,00|X|")
    assert found(check_fec(write(tmp_path, rows, header=header))) == [
        (3, "Sens", "sens", ERROR),
        (None, None, "file_balance", ERROR),
    ]


def test_a_label_beginning_with_a_quote_is_just_text(tmp_path) -> None:
    rows = with_field(0, "EcritureLib", '"Facture" du mois')
    assert check_fec(write(tmp_path, rows)) == []


def test_a_latin9_file_is_read_in_latin9(tmp_path) -> None:
    scan = scan_fec(write(tmp_path, VALID_ROWS, encoding="iso-8859-15"))
    assert scan.encoding == "iso-8859-15"
    assert scan.issues == []


def test_every_rule_has_a_severity_and_a_french_title() -> None:
    assert all(severity in (ERROR, WARNING) and title for severity, title in RULES.values())


@pytest.mark.parametrize("ending", ["\r\r\n", "\r", "\r\n"])
def test_any_line_end_leaves_no_carriage_return_in_the_last_field(tmp_path, ending) -> None:
    # CR CR LF (a CR LF file written again in text mode on Windows), old Mac CR alone.
    rows = [VALID_ROWS[0][:-1] + "1200,00|EUR", *VALID_ROWS[1:]]
    scan = scan_fec(write(tmp_path, rows, sep="\t", ending=ending), collect_rows=True)
    assert scan.issues == []
    assert scan.rows[0].idevise == "EUR" and scan.rows[-1].idevise == ""


def test_mixed_line_ends_in_one_file(tmp_path) -> None:
    path = tmp_path / NAME
    ends = ["\r\n", "\n", "\r\r\n", "\r", "\n", "\r\n", "\r\r\n", "\n"]
    lines = ["|".join(FEC_COLUMNS), *VALID_ROWS]
    path.write_bytes("".join(f"{line}{end}" for line, end in zip(lines, ends, strict=True))
                     .replace("|", "\t").encode())  # fmt: skip
    scan = scan_fec(path)
    assert scan.issues == [] and scan.line_count == 7


def test_a_cash_basis_file_may_leave_valid_date_empty(tmp_path) -> None:
    # BNC « recettes-dépenses »: the cash-basis columns, no validation date (Test Compta Demat
    # accepts it); the same empty ValidDate in an ordinary file stays an error.
    rows = [row.rsplit("|", 3)[0] + "|||" for row in VALID_ROWS]  # ValidDate emptied
    header = "|".join([*FEC_COLUMNS, "DateRglt", "ModeRglt", "NatOp", "IdClient"])
    bnc = [row + "|20250120|VIR|Honoraires|" for row in rows]
    assert check_fec(write(tmp_path, bnc, header=header)) == []
    plain = found(check_fec(write(tmp_path, rows)))
    assert plain[0] == (2, "ValidDate", "mandatory", ERROR) and len(plain) == 7
    assert check_fec(write(tmp_path, rows), cash_basis=True) == []


# ---------------------------------------------------------------------------------------------
# An entry whose lines are apart: the pass drops the aggregates of entries whose lines have
# gone by (balanced, one date) and reads again, keeping them all, when one comes back.

#: The purchase HA1 split: its debit before the sale and the payment, its credit after them.
HA_DEBIT, HA_CREDIT = VALID_ROWS[5], VALID_ROWS[6]
SPLIT = [HA_DEBIT, *VALID_ROWS[:5], HA_CREDIT]


def test_an_entry_balanced_only_across_the_file_is_balanced(tmp_path) -> None:
    scan = scan_fec(write(tmp_path, SPLIT), collect_rows=True)
    assert found(scan.issues) == []
    assert (scan.entry_count, len(scan.rows)) == (3, 7)
    assert [row.line for row in scan.rows] == [2, 3, 4, 5, 6, 7, 8]


def test_an_entry_closed_then_seen_again_is_judged_whole(tmp_path) -> None:
    # BQ1 is balanced when the purchase's first line follows it (its aggregate is dropped),
    # then a third BQ1 line comes: 1 200 + 15 against 1 200, reported on BQ1's first line.
    extra = "BQ|Banque|BQ1|20250210|627|Frais bancaires|||R1|20250210|Frais|15,00|0,00|||20250211||"
    issues = check_fec(write(tmp_path, [*VALID_ROWS, extra]))
    assert found(issues) == [(5, None, "entry_balance", ERROR), (None, None, "file_balance", ERROR)]
    assert "débit 1215,00, crédit 1200,00" in issues[0].message
    assert "(3 lignes)" in issues[0].message


def test_a_closed_entry_seen_again_on_another_date_is_named(tmp_path) -> None:
    # BQ1, balanced and dropped, gets two more lines (balanced) dated the next day.
    fee = "BQ|Banque|BQ1|20250211|627|Frais bancaires|||R1|20250210|Frais|15,00|0,00|||20250211||"
    bank = "BQ|Banque|BQ1|20250211|512|Banque|||R1|20250210|Frais|0,00|15,00|||20250211||"
    issues = check_fec(write(tmp_path, [*VALID_ROWS, fee, bank]))
    assert found(issues) == [(9, "EcritureDate", "entry_date", ERROR)]
    assert "« 20250210 » (ligne 5) et « 20250211 » (ligne 9)" in issues[0].message
