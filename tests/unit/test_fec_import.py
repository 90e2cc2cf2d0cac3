"""Reading other software's FEC files into validated rows (no database)."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from accounting.fec import FEC_COLUMNS
from imports.errors import ImportRefused
from imports.fec import FecRefused, read_fec

DATA = Path(__file__).resolve().parent.parent / "data" / "fec"
D = Decimal

ROWS = [
    "HA|Achats|HA1|20250301|6064|Fournitures|||FA1|20250228|Papier à lettres|50,00|0,00|||20250302||",  # noqa: E501
    "HA|Achats|HA1|20250301|401|Fournisseurs|F01|Papeterie|FA1|20250228|Papier à lettres|0,00|50,00|||20250302||",  # noqa: E501
    "HA|Achats|HA2|20250315|6411|Salaires|||PAIE03|20250331|Salaire mars|3000,00|0,00|||20250401||",
    "HA|Achats|HA2|20250315|421|Personnel|||PAIE03|20250331|Salaire mars|0,00|3000,00|||20250401||",
]  # fmt: skip


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "export.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def fec(rows: list[str] = ROWS, sep: str = "|", ending: str = "\n",
        header: str | None = None) -> str:  # fmt: skip
    head = header if header is not None else "|".join(FEC_COLUMNS)
    return (ending.join([head, *rows]) + ending).replace("|", sep)


def test_the_valid_sample_is_read_with_typed_values() -> None:
    result = read_fec(DATA / "123456782FEC20251231.txt")
    assert len(result.rows) == 10
    first = result.rows[0]
    assert (first.line, first.journal_code, first.compte_num, first.comp_aux_num) == (
        2, "VT", "41100000", "CLI001"
    )
    assert (first.ecriture_date, first.debit, first.credit) == (
        date(2025, 1, 15), D("1200.00"), D("0.00")
    )
    assert (first.ecriture_let, first.date_let) == ("A", date(2025, 2, 10))
    dollars = result.rows[8]
    assert (dollars.montant_devise, dollars.idevise) == (D("100.00"), "USD")
    assert result.total_debit == result.total_credit == D("2612.00")


def test_the_real_year_with_bom_and_its_opening_entries_is_read() -> None:
    result = read_fec(DATA / "0000000001FEC20220831.txt")
    assert result.encoding == "utf-8-sig"
    assert len(result.rows) == 5422
    assert result.rows[0].journal_code == "ANO"  # no BOM left in the first field
    assert result.rows[0].compte_lib == "Capital souscrit appelé, versé"
    assert result.total_debit == result.total_credit == D("10186219.81")


def test_the_padded_pipe_sample_with_trailing_separator_is_read() -> None:
    result = read_fec(DATA / "111111111FEC20221231.TXT")
    assert (result.encoding, result.separator, len(result.rows)) == ("iso-8859-15", "|", 934)
    first = result.rows[0]
    # Padding gone, zero-padded amounts read, inner spaces kept.
    assert (first.journal_code, first.compte_lib, first.piece_ref) == (
        "VE", "VENTE NECTAR DE FRAISE", "VE  0123"
    )
    assert (first.debit, first.credit) == (D("0.00"), D("69.60"))
    assert first.comp_aux_num == "" and first.ecriture_let == ""
    assert result.total_debit == result.total_credit == D("225682.23")
    assert {issue.rule for issue in result.warnings} == {"trailing_separator", "column_case"}


def test_the_broken_sample_is_refused_with_every_error_by_line() -> None:
    with pytest.raises(FecRefused) as refused:
        read_fec(DATA / "987654321FEC20251231-broken.txt")
    errors = refused.value.errors
    assert [(error.row, error.column) for error in errors] == [
        (None, None),  # debits and credits of the file differ
        (2, None),  # VT0001 unbalanced
        (5, "Debit"),  # 100.00
        (9, "EcritureDate"),  # two dates in BQ0001
        (10, "EcritureDate"),  # 30 February
        (11, "EcritureDate"),
        (12, "CompteLib"),  # empty
        (14, None),  # debit and credit on one line
    ]
    assert isinstance(refused.value, ImportRefused)
    assert "FEC refusé : 8 erreurs" in str(refused.value)
    # The name and the fiscal year are not judged on import; the missing auxiliary label of
    # line 7 is only a warning there.
    rules = {issue.rule: issue.severity for issue in refused.value.issues}
    assert rules["aux_label"] == "warning"
    assert "siren" not in rules and "fiscal_year" not in rules


@pytest.mark.parametrize(
    ("encoding", "bom", "ending", "sep"),
    [
        ("utf-8", False, "\n", "|"),
        ("utf-8", True, "\r\n", "\t"),
        ("iso-8859-15", False, "\r\n", "|"),
        ("iso-8859-15", False, "\n", "\t"),
    ],
)
def test_encodings_line_endings_and_separators(tmp_path, encoding, bom, ending, sep) -> None:
    data = fec(sep=sep, ending=ending).encode(encoding)
    path = tmp_path / "x.txt"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    result = read_fec(path)
    assert result.rows[0].ecriture_lib == "Papier à lettres"
    assert result.rows[0].journal_code == "HA"
    assert result.rows[-1].idevise == ""
    assert [row.line for row in result.rows] == [2, 3, 4, 5]


def test_windows_1252_bytes_are_read_as_windows_1252(tmp_path) -> None:
    rows = [ROWS[0].replace("Papier à lettres", "Papier d’écolier"),
            ROWS[1].replace("Papier à lettres", "Papier d’écolier")]  # fmt: skip
    result = read_fec(write(tmp_path, fec(rows), encoding="windows-1252"))
    assert result.encoding == "windows-1252"
    assert result.rows[0].ecriture_lib == "Papier d’écolier"


def test_extra_columns_after_the_18_are_kept(tmp_path) -> None:
    header = "|".join([*FEC_COLUMNS, "CodeAnalytique", "Axe2"])
    rows = [row + f"|DEV|X{i}" for i, row in enumerate(ROWS)]
    result = read_fec(write(tmp_path, fec(rows, header=header)))
    assert result.extra_columns == ("CodeAnalytique", "Axe2")
    assert [row.extra for row in result.rows] == [
        ("DEV", "X0"), ("DEV", "X1"), ("DEV", "X2"), ("DEV", "X3")
    ]


def test_one_extra_column_is_kept_as_a_one_value_tuple(tmp_path) -> None:
    header = "|".join([*FEC_COLUMNS, "CodeAnalytique"])
    result = read_fec(write(tmp_path, fec([row + "|DEV" for row in ROWS], header=header)))
    assert {row.extra for row in result.rows} == {("DEV",)}


def test_column_names_in_any_case_and_order_are_read_by_name(tmp_path) -> None:
    names = [name.upper() for name in FEC_COLUMNS]
    names[11], names[12] = names[12], names[11]  # CREDIT before DEBIT
    rows = []
    for row in ROWS:
        fields = row.split("|")
        fields[11], fields[12] = fields[12], fields[11]
        rows.append("|".join(fields))
    result = read_fec(write(tmp_path, fec(rows, header="|".join(names))))
    assert (result.rows[0].debit, result.rows[0].credit) == (D("50.00"), D("0.00"))
    assert {issue.rule for issue in result.warnings} == {"column_order", "column_case"}


def test_quotes_are_never_special(tmp_path) -> None:
    rows = [row.replace("Papier à lettres", '"Papier" à lettres') for row in ROWS[:2]]
    result = read_fec(write(tmp_path, fec(rows)))
    assert result.rows[0].ecriture_lib == '"Papier" à lettres'


@pytest.mark.parametrize(
    ("rows", "line", "rule_text"),
    [
        ([ROWS[0], ROWS[1].replace("|0,00|50,00|", "|0,00|40,00|")], 2, "déséquilibrée"),
        ([ROWS[0].replace("|50,00|", "|50.00|"), ROWS[1]], 2, "virgule"),
        ([ROWS[0].replace("|20250301|", "|20250332|"), ROWS[1]], 2, "date réelle"),
        ([ROWS[0] + "|en trop", ROWS[1]], 2, "champs trouvés"),
    ],
)
def test_a_malformed_or_unbalanced_file_is_refused(tmp_path, rows, line, rule_text) -> None:
    with pytest.raises(FecRefused) as refused:
        read_fec(write(tmp_path, fec(rows)))
    assert any(error.row == line and rule_text in error.message
               for error in refused.value.errors)  # fmt: skip


def test_an_unknown_separator_is_refused(tmp_path) -> None:
    with pytest.raises(FecRefused) as refused:
        read_fec(write(tmp_path, fec(sep=";")))
    assert refused.value.errors[0].row == 1
    assert "séparateur" in refused.value.errors[0].message


def test_a_fec_mixing_utf8_and_latin1_is_refused_with_its_line(tmp_path) -> None:
    """Issue 13: a mixed file was read as Windows-1252, its UTF-8 letters garbled."""
    from accounting.fec import FecError, detect_encoding

    path = tmp_path / "mixte.txt"
    path.write_bytes("JournalCode\tJournalLib\nVE\tVentes été\n".encode()
                     + "HA\tAchats matériel\n".encode("latin-1"))  # fmt: skip
    with pytest.raises(FecError, match="à partir de la ligne 3"):
        detect_encoding(path)
    pure = tmp_path / "latin.txt"
    pure.write_bytes("JournalCode\tJournalLib\nHA\tAchats matériel\n".encode("latin-1"))
    assert detect_encoding(pure) == "iso-8859-15"
