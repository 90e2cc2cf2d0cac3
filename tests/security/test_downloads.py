"""Downloads never end half-done (issue 8).

A writer that fails: no temporary file left (on disk or open), the French error page, not a
500 trace. A CSV whose query fails: a small one gets the error page instead of a partial file;
a large one, already streaming, ends with a dropped connection (no final chunk), which a client
reports as a failed download — checked at the WSGI level on the real route and over a real
socket against Werkzeug's server.
"""

from __future__ import annotations

import html
import http.client
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

import app.download_cache as download_cache
import app.downloads as downloads
import app.ledger.routes as ledger_routes
import app.timesheets.routes as timesheet_routes
from app.downloads import FAILED_TITLE, send_csv
from tests.security.test_faults import _login
from timesheets.models import EntryStatus, WorkEntry


class Broken(RuntimeError):
    """The injected fault."""


def half_write(*args: Any) -> None:
    """A writer that gets some bytes out, then fails (the handle is its last argument)."""
    args[-1].write(b"PK\x03\x04 partial")
    raise Broken("panne simulée pendant l'écriture")


def open_in(folder: Path) -> list[str]:
    """This process's open files under ``folder`` (an unlinked temporary file included: Linux
    shows it as "<folder>/#123 (deleted)" or "<folder>/tmpXYZ (deleted)")."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every temporary file of the request goes to a folder of its own, watched."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def no_propagation(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return app


ENTRIES = 5


@pytest.fixture
def entries(db: Session, cluster: Any) -> int:
    """A few entries to export (in the developer's service, for member A, every day a minute
    more, so that the rows differ)."""
    for index in range(ENTRIES):
        db.add(WorkEntry(staff_id=cluster.developer.id, day=date(2024, 3, 1 + index),
                         minutes=60 + index, member_id=cluster.a.id, service_id=cluster.dev.id,
                         status=EntryStatus.APPROVED.value, created_by_id=cluster.developer.id))
    db.flush()
    return ENTRIES


WRITERS = [
    (timesheet_routes, "write_entries_xlsx", "/temps/saisies/export.xlsx?du=&au="),
    (ledger_routes, "write_ledger_workbook", "/comptabilite/grand-livre.xlsx"),
    (ledger_routes, "write_fec_rows", "/comptabilite/fec/{year}.txt"),
]


@pytest.mark.parametrize(("module", "writer", "url"), WRITERS,
                         ids=[w[1] for w in WRITERS])  # fmt: skip
def test_a_failing_writer_leaves_no_temporary_file_and_answers_in_french(
    client: FlaskClient, cluster: Any, monkeypatch: pytest.MonkeyPatch, temp_folder: Path,
    no_propagation: Flask, carrier: Any, module: Any, writer: str, url: str,
) -> None:
    _login(client, cluster.admin.email)
    monkeypatch.setattr(module, writer, half_write)
    response = client.get(url.format(year=2024))
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert FAILED_TITLE in text and "aucun fichier partiel n'a été envoyé" in text
    assert "Traceback" not in text and "Broken" not in text
    assert list(temp_folder.iterdir()) == []
    assert open_in(temp_folder) == []


def test_a_written_file_is_closed_once_sent(
    client: FlaskClient, cluster: Any, entries: int, monkeypatch: pytest.MonkeyPatch,
    temp_folder: Path,
) -> None:
    _login(client, cluster.admin.email)
    # Above MAX_ROWS rows, an export goes through a temporary file (smaller ones are rendered
    # in memory and kept: tests/timesheets/test_download_cache.py).
    monkeypatch.setattr(download_cache, "MAX_ROWS", ENTRIES - 1)
    handles: list[Any] = []
    real = tempfile.TemporaryFile

    def spy() -> Any:
        handles.append(real())
        return handles[-1]

    monkeypatch.setattr(downloads.tempfile, "TemporaryFile", spy)
    response = client.get("/temps/saisies/export.xlsx?du=&au=")
    assert response.status_code == 200
    assert response.data[:2] == b"PK"  # a real workbook went out
    response.close()
    assert len(handles) == 1 and handles[0].closed
    assert open_in(temp_folder) == [] and list(temp_folder.iterdir()) == []


def rows_then_failure(real: Any, count: int) -> Any:
    """``export_rows`` that gives ``count`` real rows (repeated if need be) then fails."""

    def broken(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
        rows = list(real(*args, **kwargs))
        for index in range(count):
            yield rows[index % len(rows)]
        raise Broken("la base a lâché au milieu de l'export")

    return broken


def test_a_small_csv_whose_query_fails_gets_the_error_page_not_a_partial_file(
    client: FlaskClient, cluster: Any, entries: int, monkeypatch: pytest.MonkeyPatch,
    no_propagation: Flask,
) -> None:
    _login(client, cluster.admin.email)
    monkeypatch.setattr(timesheet_routes, "export_rows",
                        rows_then_failure(timesheet_routes.export_rows, 3))  # fmt: skip
    response = client.get("/temps/saisies/export.csv?du=&au=")
    assert response.status_code == 500
    assert "Content-Disposition" not in response.headers
    assert FAILED_TITLE in html.unescape(response.get_data(as_text=True))


def test_a_small_csv_is_sent_whole_with_its_length(
    client: FlaskClient, cluster: Any, entries: int
) -> None:
    _login(client, cluster.admin.email)
    response = client.get("/temps/saisies/export.csv?du=&au=")
    assert response.status_code == 200
    body = response.data
    assert int(response.headers["Content-Length"]) == len(body)
    lines = body.decode("utf-8-sig").split("\r\n")
    assert len(lines) == 1 + ENTRIES + 1 and lines[-1] == ""  # header, entries, final newline
    assert lines[1].startswith("01/03/2024;") and lines[ENTRIES].startswith("05/03/2024;")


def test_a_large_csv_failing_mid_stream_raises_at_the_wsgi_level_after_the_first_bytes(
    app: Flask, client: FlaskClient, cluster: Any, entries: int,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """The WSGI server sees the exception after the status line and some bytes: that is what
    makes Werkzeug and gunicorn drop the connection without the final chunk."""
    _login(client, cluster.admin.email)
    monkeypatch.setattr(downloads, "BUFFER_LIMIT", 200)
    # Large: more rows than the exports produced whole and kept (app/download_cache.py).
    monkeypatch.setattr(download_cache, "MAX_ROWS", 100)
    monkeypatch.setattr(timesheet_routes, "export_rows",
                        rows_then_failure(timesheet_routes.export_rows, 2500))  # fmt: skip
    builder = EnvironBuilder(path="/temps/saisies/export.csv", query_string="du=&au=")
    environ = builder.get_environ()
    client._add_cookies_to_wsgi(environ)  # the session of the login
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = app.wsgi_app(environ, lambda status, headers, *_: started.append((status, headers)))
    received = b""
    with pytest.raises(Broken):
        for chunk in body:
            received += chunk
    getattr(body, "close", lambda: None)()
    status, headers = started[0]
    assert status.startswith("200")
    assert "content-length" not in {name.lower() for name, _ in headers}
    assert received.startswith("\ufeff".encode()) and len(received) >= 200
    # The export yields every 1000 rows: the header and 2000 rows went out, then the failure.
    assert received.count(b"\r\n") == 1 + 2000
    assert "connection dropped" in caplog.text


def test_werkzeug_drops_the_connection_of_a_stream_that_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Over a real socket: the client cannot read a complete body (no terminating chunk),
    which is how curl and browsers tell a failed download from a finished one."""
    tiny = Flask("tiny")

    def chunks() -> Iterator[str]:
        for index in range(100):
            yield f"ligne {index};{'x' * 50}\r\n"
        raise Broken("panne au milieu")

    tiny.add_url_rule("/f.csv", "f", lambda: send_csv(chunks(), download_name="f.csv",
                                                      buffer_limit=500))  # fmt: skip
    # threaded, as ``flask run`` is: Werkzeug then speaks HTTP/1.1 (chunked); its single-thread
    # server speaks HTTP/1.0, where only the missing Content-Length hints at a cut.
    server = make_server("127.0.0.1", 0, tiny, threaded=True)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/f.csv")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        with pytest.raises(http.client.IncompleteRead) as failed:
            response.read()
        assert failed.value.partial.startswith(b"ligne 0;")
        connection.close()
    finally:
        thread.join(10)
        server.server_close()
    assert "connection dropped" in caplog.text
