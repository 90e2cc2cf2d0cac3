"""Fuzzing every upload endpoint through the web (issue 13): hostile file names (``..``, ``.``,
NUL, 300 characters, paths, control and bidi characters) and random or mutated contents. The
only acceptable answers are a page or a redirect with a French refusal — never a 5xx — and every
endpoint reads its file through ``app.uploads.receive_upload``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection

from accounting.org import Role
from app.uploads import UploadRefused, safe_filename
from tests.fuzz.strategies import NASTY, count, fuzz_settings

#: Every upload endpoint: (URL, the form's file field).
ENDPOINTS = [
    ("/admin/import/adherents", "file"),
    ("/admin/import/chiffres", "file"),
    ("/admin/configuration", "file"),
    ("/factures/paiements/import", "document"),
    ("/temps/import", "document"),
    ("/comptabilite/fec/controle", "document"),
    ("/comptabilite/import-fec", "document"),
    ("/repartition/charges/import", "document"),
    ("/budgets/2026/vote", "document"),
]
HOSTILE_NAMES = [
    "..", ".", "/", "a/../..", "x" * 300 + ".csv", "fec\x00.txt", "\x00", "C:\\temp\\..",
    "../../etc/passwd", "nom\nligne.csv", "\u202ecsv.exe", " .csv ", "é" * 130 + ".csv",
    "CON", "fichier.csv" + "\x7f", "", " ", "a" * 255,
]
names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(max_size=300),
    st.builds(lambda stem, ext: stem + ext, st.text(max_size=40),
              st.sampled_from([".csv", ".xlsx", ".txt", ".yaml", ".exe", ""])),
)
contents = st.one_of(
    st.binary(max_size=2048),
    st.lists(st.sampled_from(NASTY), max_size=12).map(b"".join),
    st.just(b"Date;Intervenant;Minutes\n2026-01-05;a@b.fr;60\n"),
)


def test_every_upload_endpoint_reads_through_the_helper() -> None:
    """No route reads an uploaded stream itself (the helper sanitises, sizes and types)."""
    app_dir = Path(__file__).resolve().parents[2] / "app"
    offenders = [
        str(path.relative_to(app_dir))
        for path in app_dir.rglob("*.py")
        if path.name != "uploads.py" and "read_limited(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_refused_or_made_safe(name: str) -> None:
    try:
        safe = safe_filename(name)
    except UploadRefused as refused:
        assert str(refused).startswith("Nom de fichier refusé") or "fichier" in str(refused)
        return
    assert safe not in ("", ".", "..") and "/" not in safe and "\\" not in safe
    assert "\x00" not in safe and len(safe.encode()) <= 120
    assert all(ch.isprintable() for ch in safe)


def test_a_windows_path_keeps_its_file_name() -> None:
    assert safe_filename("C:\\Users\\compta\\Documents\\temps mars.csv") == "temps mars.csv"
    assert safe_filename("x" * 200 + ".csv") == "x" * 116 + ".csv"


@pytest.fixture
def admin_client(client: FlaskClient, login_as) -> FlaskClient:
    login_as(Role.ADMIN)
    return client


def _post(client: FlaskClient, connection: Connection, url: str, field: str, name: str,
          data: bytes) -> int:  # fmt: skip
    savepoint = connection.begin_nested()  # an import that commits leaves nothing behind
    try:
        response = client.post(
            url, data={field: (io.BytesIO(data), name)}, content_type="multipart/form-data"
        )
        return response.status_code
    finally:
        if savepoint.is_active:
            savepoint.rollback()


@pytest.mark.parametrize(("url", "field"), ENDPOINTS)
def test_every_upload_endpoint_refuses_each_hostile_name_cleanly(
    admin_client: FlaskClient, connection: Connection, url: str, field: str
) -> None:
    answers = {name: _post(admin_client, connection, url, field, name, b"a;b\n1;2\n")
               for name in HOSTILE_NAMES}  # fmt: skip
    assert {n: s for n, s in answers.items() if s >= 500 or (s == 200 and n in {"..", "."})} == {}


@fuzz_settings(share=0.5)
@given(endpoint=st.sampled_from(ENDPOINTS), name=names, data=contents)
def test_every_upload_endpoint_answers_without_a_server_error(
    app: Flask, admin_client: FlaskClient, connection: Connection,
    endpoint: tuple[str, str], name: str, data: bytes,
) -> None:  # fmt: skip
    count("upload endpoints (names and contents)")
    url, field = endpoint
    status = _post(admin_client, connection, url, field, name, data)
    assert status < 500, (url, name, status)
    assert status != 403, "the admin may use every upload endpoint"
