"""Reading users' CSV and XLSX files: encodings, separators, typed cells, and every bad file."""

import csv
import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest

from imports import tabular
from imports.errors import ImportRefused, RowError
from imports.parsing import parse_date, parse_decimal, parse_duration
from imports.tabular import (
    EmptyFile,
    FileTooLarge,
    MissingColumns,
    UnreadableFile,
    map_columns,
    normalize_header,
    read_limited,
    read_table,
    read_table_file,
)

ROWS = [
    ["Date", "Intervenant", "Adhérent", "Durée", "Commentaire"],
    ["2026-03-05", "léa@example.org", "A01", "1,5", "Clôture, bilan"],
    ["05/03/2026", "éric@example.org", "", "1h30", "Réunion « œuvre »"],
]


def _csv(rows, separator=",", newline="\r\n"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("encoding", "prefix", "shown"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8 (BOM)"),
        ("cp1252", b"", "Windows-1252"),
        ("utf-16", b"", "UTF-16"),  # Python writes the BOM itself
    ],
)
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_in_each_encoding_and_separator_reads_the_same(encoding, prefix, shown, separator):
    data = prefix + _csv(ROWS, separator).encode(encoding)
    table = read_table(data, "saisies.csv")
    assert table.kind == "csv"
    assert table.encoding == shown
    assert table.separator == separator
    assert table.header == tuple(ROWS[0])
    assert [row.line for row in table.rows] == [2, 3]
    assert [list(row.values) for row in table.rows] == ROWS[1:]


def test_quoted_fields_keep_separators_quotes_and_newlines_and_lines_are_physical():
    text = (
        "Date;Durée;Commentaire\n"
        '2026-03-05;1,5;"Bilan; TVA"\n'
        '2026-03-06;2;"Deux\nlignes ""citées"""\n'
        "\n"
        "2026-03-07;1:30;fin\n"
    )
    table = read_table(text.encode(), "k.csv")
    assert [row.values for row in table.rows] == [
        ("2026-03-05", "1,5", "Bilan; TVA"),
        ("2026-03-06", "2", 'Deux\nlignes "citées"'),
        ("2026-03-07", "1:30", "fin"),
    ]
    # Physical lines, as a text editor shows them: the quoted field spans lines 3 and 4, the
    # blank line is 5, so « fin » is on line 6.
    assert [row.line for row in table.rows] == [2, 3, 6]


def test_short_rows_are_padded_and_cells_stripped():
    table = read_table(b"a,b,c\n 1 ,2\n", "x.csv")
    assert table.rows[0].values == ("1", "2", "")
    assert table.rows[0].get(None) == ""
    assert table.rows[0][1] == "2"


def test_blank_lines_before_the_header_move_the_header_line():
    table = read_table(b"\n\na;b\n1;2\n", "x.csv")
    assert table.header_line == 3
    assert table.rows[0].line == 4


def test_a_row_with_more_cells_than_the_header_is_refused_with_its_line():
    with pytest.raises(UnreadableFile) as caught:
        read_table(b"a;b\n1;2\n1;2;3\n4;5;\n", "x.csv")
    assert caught.value.errors == [
        RowError(
            3,
            None,
            "3 cellules pour 2 colonnes d'en-tête : vérifiez le séparateur et les guillemets.",
        )
    ]


def test_an_unclosed_quote_is_reported_at_its_record():
    with pytest.raises(UnreadableFile) as caught:
        read_table(b'a,b\n1,2\n3,"open\n', "x.csv")
    assert caught.value.errors[0].row == 3
    assert "guillemet" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "vide.csv", "est vide"),
        (b"\xef\xbb\xbf\r\n\r\n", "vide.csv", "est vide"),
        (b"", "vide.xlsx", "est vide"),
        (b"date,duree\n", "entete.csv", "aucune ligne de données"),
        (b"date,duree\n,\n", "entete.csv", "aucune ligne de données"),
    ],
)
def test_empty_files_are_refused(data, filename, message):
    with pytest.raises(EmptyFile) as caught:
        read_table(data, filename)
    assert message in str(caught.value)
    assert caught.value.errors[0].row is None


def test_a_binary_file_named_csv_is_refused():
    data = bytes(range(256)) * 10
    with pytest.raises(UnreadableFile, match="contenu binaire"):
        read_table(data, "photo.csv")


def test_an_old_xls_is_refused_with_advice():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    with pytest.raises(UnreadableFile, match=r"ancien classeur Excel \(\.xls\)"):
        read_table(data, "vieux.xls")


def test_an_unknown_extension_is_refused():
    with pytest.raises(UnreadableFile, match="non pris en charge"):
        read_table(b"a,b\n1,2\n", "notes.pdf")


def test_text_that_is_neither_utf8_nor_windows_1252_is_refused():
    # 0x81 is undefined in Windows-1252 and invalid alone in UTF-8.
    with pytest.raises(UnreadableFile, match="UTF-8"):
        read_table(b"a,b\n\x81,2\n", "x.csv")


# ---------------------------------------------------------------- XLSX


def _xlsx(rows, *, formats=None, title_rows=0, hidden_first=False):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if hidden_first:
        sheet.title = "Cachée"
        sheet.append(["ne pas lire"])
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("Saisies")
    for _ in range(title_rows):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_typed_cells_become_strings_the_parsers_read_back_exactly():
    data = _xlsx(
        [
            ["Date", "Durée", "Montant", "Quantité", "Heure", "Texte", "Facturable"],
            [date(2026, 3, 5), timedelta(hours=1, minutes=30), 0.1, 3, time(10, 30), "x", True],
            [datetime(2026, 3, 6, 14, 0), timedelta(hours=30), 1234.56, 2.0, None, "", False],
            [46087, 1.5, 1e20, None, None, "=1+1", None],
        ],
        formats={"B2": "[hh]:mm", "B3": "[hh]:mm"},
    )
    table = read_table(data, "saisies.xlsx")
    assert table.kind == "xlsx"
    assert table.header == ("Date", "Durée", "Montant", "Quantité", "Heure", "Texte", "Facturable")
    assert [row.values for row in table.rows] == [
        ("2026-03-05", "1:30", "0.1", "3", "10:30", "x", "1"),
        ("2026-03-06 14:00:00", "30:00", "1234.56", "2", "", "", "0"),
        # A formula never computed (openpyxl stores no cached value) reads as empty.
        ("46087", "1.5", "1e+20", "", "", "", ""),
    ]
    assert [row.line for row in table.rows] == [2, 3, 4]
    first, second, third = table.rows
    assert parse_date(first[0]) == date(2026, 3, 5)
    assert parse_duration(first[1]) == 90
    assert parse_decimal(first[2]) == parse_decimal("0,1")
    assert parse_date(second[0]) == date(2026, 3, 6)
    assert parse_date(third[0]) == date(2026, 3, 6)
    assert parse_duration(third[1]) == 90


def test_xlsx_line_numbers_are_the_sheet_rows():
    data = _xlsx([["a", "b"], [1, 2], [], [3, 4]], title_rows=2)
    table = read_table(data, "x.xlsx")
    assert table.header_line == 3
    assert [row.line for row in table.rows] == [4, 6]


def test_xlsx_reads_the_first_visible_sheet():
    table = read_table(_xlsx([["a"], ["1"]], hidden_first=True), "x.xlsx")
    assert table.rows[0].values == ("1",)


def test_a_workbook_named_csv_is_read_as_a_workbook():
    table = read_table(_xlsx([["a"], ["1"]]), "export.csv")
    assert table.kind == "xlsx"


@pytest.mark.parametrize(
    "data",
    [
        b"Date;Duree\n2026-03-05;1,5\n",  # a CSV renamed .xlsx
        b"PK\x03\x04" + b"\x00" * 100,  # a truncated zip
        bytes(range(256)),
    ],
)
def test_an_xlsx_that_is_not_one_is_refused(data):
    with pytest.raises(UnreadableFile, match=r"pas un vrai fichier Excel \(\.xlsx\)"):
        read_table(data, "saisies.xlsx")


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_that_is_not_a_workbook_is_refused():
    data = _zip({"readme.txt": "hello"})
    with pytest.raises(UnreadableFile, match="pas un vrai fichier Excel"):
        read_table(data, "x.xlsx")


def test_a_damaged_workbook_is_refused_not_crashed():
    data = _zip({"[Content_Types].xml": "<bad", "xl/workbook.xml": "<also bad"})
    with pytest.raises(UnreadableFile, match="illisible ou endommagé"):
        read_table(data, "x.xlsx")


def test_a_zip_bomb_is_refused_from_its_directory_before_inflating():
    bomb = _zip(
        {
            "[Content_Types].xml": "<Types/>",
            "xl/workbook.xml": "<workbook/>",
            "xl/worksheets/sheet1.xml": b"\x00" * (20 * 1024 * 1024),
        }
    )
    assert len(bomb) < 100_000
    with pytest.raises(UnreadableFile, match="fichier suspect ou trop gros"):
        read_table(bomb, "bombe.xlsx")


def test_a_workbook_whose_declared_total_is_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_UNCOMPRESSED", 1000)
    with pytest.raises(UnreadableFile, match="fichier suspect ou trop gros"):
        read_table(_xlsx([["a"], ["1"]]), "x.xlsx")


# ---------------------------------------------------------------- size


def test_a_file_over_the_limit_is_refused_before_parsing():
    with pytest.raises(FileTooLarge, match="trop volumineux"):
        read_table(b"a,b\n" + b"1,2\n" * 100, "x.csv", max_bytes=100)


def test_a_200_mb_file_on_disk_is_refused_without_being_read(tmp_path, monkeypatch):
    path = tmp_path / "enorme.csv"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: costs no disk

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(FileTooLarge) as caught:
        read_table_file(path)
    assert str(caught.value) == (
        "Le fichier « enorme.csv » est trop volumineux (200 Mo) : la limite est de 50 Mo."
    )


def test_a_small_file_on_disk_is_read(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_bytes(b"a;b\n1;2\n")
    assert read_table_file(path).rows[0].values == ("1", "2")


def test_a_missing_file_is_refused_in_french(tmp_path):
    with pytest.raises(UnreadableFile, match="Impossible d'ouvrir"):
        read_table_file(tmp_path / "absent.csv")


class _EndlessUpload:
    """A client that would send data forever; records how much was asked."""

    def __init__(self):
        self.asked = []

    def read(self, size=-1):
        assert size >= 0, "an unbounded read of an upload"
        self.asked.append(size)
        return b"x" * size


def test_an_upload_stream_is_never_read_past_the_limit():
    stream = _EndlessUpload()
    with pytest.raises(FileTooLarge):
        read_limited(stream, "x.csv", max_bytes=1000)
    assert sum(stream.asked) == 1001


def test_an_upload_under_the_limit_is_returned_whole():
    assert read_limited(io.BytesIO(b"abc"), "x.csv", max_bytes=3) == b"abc"


# ---------------------------------------------------------------- columns

SPEC = {
    "date": ["Date"],
    "staff": ["Intervenant", "email"],
    "member": ["Adhérent", "Member code"],
    "duration": ["Durée"],
    "note": ["Commentaire"],
}


@pytest.mark.parametrize(
    ("title", "normal"),
    [
        ("Adhérent ", "adherent"),
        ("Unit type", "unittype"),
        ("E-mail", "email"),
        ("DURÉE (h)", "dureeh"),
        ("Nom d'utilisateur", "nomdutilisateur"),
        ("Œuvre", "oeuvre"),
    ],
)
def test_headers_are_normalized_ignoring_case_accents_spaces_and_punctuation(title, normal):
    assert normalize_header(title) == normal


def test_columns_match_english_or_french_headers_in_any_order():
    columns = map_columns(
        ["COMMENTAIRE", "durée", "adherent", "E-mail", "date"], SPEC, optional=["note"]
    )
    assert dict(columns) == {"note": 0, "duration": 1, "member": 2, "staff": 3, "date": 4}
    assert columns.label("member") == "adherent"
    assert columns.unknown == ()


def test_optional_columns_may_be_absent():
    columns = map_columns(["date", "staff", "member", "duration"], SPEC, optional=["note"])
    assert "note" not in columns
    assert columns.label("note") == "note"


def test_missing_unknown_and_duplicate_columns_are_all_reported_at_once():
    with pytest.raises(MissingColumns) as caught:
        map_columns(["Date", "Durée", "Duree", "Projet", ""], SPEC, header_line=3)
    errors = caught.value.errors
    assert {(e.row, e.column) for e in errors} == {
        (3, "Duree"),
        (3, "staff"),
        (3, "member"),
        (3, "note"),
        (3, "Projet"),
    }
    duplicate = next(e for e in errors if e.column == "Duree")
    assert duplicate.message == (
        "Colonne en double : « Durée » et « Duree » désignent la même donnée."
    )
    missing = next(e for e in errors if e.column == "member")
    assert missing.message == (
        "Colonne obligatoire absente (en-têtes acceptés : « member », « Adhérent », "
        "« Member code »)."
    )
    assert isinstance(caught.value, ImportRefused)


def test_unknown_columns_can_be_allowed_and_are_listed():
    columns = map_columns(
        ["Date", "User", "Customer", "Intervenant", "Adhérent", "Durée", "Commentaire"],
        SPEC,
        allow_unknown=True,
    )
    assert columns.unknown == ("User", "Customer")
    assert columns["staff"] == 3


def test_a_spec_giving_one_alias_to_two_names_is_a_programming_error():
    with pytest.raises(ValueError, match="both"):
        map_columns(["a"], {"a": ["x"], "b": ["X"]})


# ---------------------------------------------------------------- encodings (issue 13)


def test_a_file_mixing_utf8_and_latin1_is_refused_at_the_line_where_it_breaks():
    """Line 2 in UTF-8, line 3 in Latin-1: it was read as Windows-1252 (« é » became « Ã© »)."""
    data = "Nom;Ville\nÉric;Trévoux\n".encode() + "Zoé;Bâgé\n".encode("latin-1")
    with pytest.raises(UnreadableFile) as refused:
        read_table(data, "mixte.csv")
    (error,) = refused.value.errors
    assert error.row == 3
    assert "UTF-8" in error.message and "0xE9" in error.message
    assert "rien n'a été importé" in error.message


def test_damaged_utf8_after_a_utf8_bom_is_refused_not_re_decoded():
    data = b"\xef\xbb\xbfNom;Ville\nA;B\nC;caf\xc3\n"  # line 3 ends inside a character
    with pytest.raises(UnreadableFile) as refused:
        read_table(data, "bom.csv")
    assert refused.value.errors[0].row == 3


def test_a_pure_windows_1252_export_is_still_read():
    data = "Nom;Ville\nZoé;Bâgé-le-Châtel\n".encode("cp1252")
    table = read_table(data, "export.csv")
    assert table.encoding == "Windows-1252"
    assert list(table.rows[0].values) == ["Zoé", "Bâgé-le-Châtel"]


def test_the_user_s_explicit_encoding_is_applied_strictly():
    data = "Nom;Ville\nZoé;Bâgé\n".encode("latin-1")
    assert read_table(data, "x.csv", encoding="iso-8859-15").rows[0].values == ("Zoé", "Bâgé")
    with pytest.raises(UnreadableFile) as refused:
        read_table(data, "x.csv", encoding="utf-8")  # the user was wrong: refused, line 2
    assert refused.value.errors[0].row == 2
    with pytest.raises(UnreadableFile, match="Encodage inconnu"):
        read_table(data, "x.csv", encoding="ebcdic")
