"""Uploads: the size limit (413 page), and hostile workbooks (XML entity bombs, zips whose
directory lies). The plain zip bomb and the size checks of imports/tabular.py have their unit
tests in tests/unit/test_import_tabular.py; these add the attacks that go around them."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from accounting.org import Role
from imports.errors import ImportRefused
from imports.tabular import read_table
from tests.fuzz.strategies import workbook_bytes

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def _rebuild(seed: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(seed))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name in source.namelist():
            rebuilt.writestr(name, replace.get(name, source.read(name)))
    return out.getvalue()


def test_a_body_over_the_limit_gets_the_413_page(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10_000)
    response = client.post("/login", data={"email": "a@b.fr", "password": "x" * 20_000})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_an_upload_over_the_limit_is_refused_before_the_importer_reads_it(
    app: Flask, client: FlaskClient, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "timesheets.import_upload" not in app.view_functions:
        pytest.skip("no timesheet import page yet")
    login_as(Role.ACCOUNTANT)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    with app.test_request_context():
        url = url_for("timesheets.import_upload")
    big = io.BytesIO(b"Date;Intervenant\n" + b"2026-01-05;a@b.fr\n" * 10_000)
    response = client.post(
        url, data={"document": (big, "temps.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_openpyxl_reads_workbooks_through_defusedxml() -> None:
    """openpyxl uses defusedxml only when it is installed: it must be (pyproject pins it)."""
    import defusedxml  # noqa: F401
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_openpyxl_refuses_an_entity_bomb() -> None:
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook

    seed = workbook_bytes([["Date", "Note"], ["2026-01-05", "x"]])
    sheet = zipfile.ZipFile(io.BytesIO(seed)).read("xl/worksheets/sheet1.xml")
    bomb = _rebuild(
        seed, {"xl/worksheets/sheet1.xml": LAUGHS + sheet.replace(b">x<", b">&lol9;<")}
    )
    with pytest.raises(ValueError) as refused:
        load_workbook(io.BytesIO(bomb))
    assert isinstance(refused.value.__cause__, DefusedXmlException)


def test_the_importers_reader_does_not_expand_an_entity_bomb() -> None:
    seed = workbook_bytes([["Date", "Note"], ["2026-01-05", "x"]])
    sheet = zipfile.ZipFile(io.BytesIO(seed)).read("xl/worksheets/sheet1.xml")
    bomb = _rebuild(
        seed, {"xl/worksheets/sheet1.xml": LAUGHS + sheet.replace(b">x<", b">&lol9;<")}
    )
    try:
        table = read_table(bomb, "bombe.xlsx")
    except ImportRefused as refused:
        assert "n'est pas un vrai fichier Excel" in str(refused)
    else:  # read without expanding: the cell holds at most the entity's name
        assert all(len(cell) < 100 for row in table.rows for cell in row.values)


def test_a_workbook_whose_zip_directory_lies_about_sizes_is_refused_without_inflating() -> None:
    """The zip-bomb guard trusts the sizes the directory declares; a forged directory declaring
    1 000 bytes for 5 MB of sheet must not get the 5 MB inflated. The reader stops at the
    declared size and refuses the truncated XML."""
    seed = workbook_bytes([["Date", "Note"], ["2026-01-05", "PLACEHOLDER"]])
    sheet = zipfile.ZipFile(io.BytesIO(seed)).read("xl/worksheets/sheet1.xml")
    data = bytearray(
        _rebuild(
            seed,
            {"xl/worksheets/sheet1.xml": sheet.replace(b"PLACEHOLDER", b"A" * 5 * 1024 * 1024)},
        )
    )
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 5 * 1024 * 1024
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # local header
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:  # central directory entries
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, at + 24, 1000)
        at += 4
    with pytest.raises(ImportRefused, match="n'est pas un vrai fichier Excel"):
        read_table(bytes(data), "menteur.xlsx")
