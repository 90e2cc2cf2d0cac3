"""Faults: a crash in the middle of a use case leaves the database as it was.

Each test breaks one step late in a real request (after the use case has written its rows and
flushed them), lets the 500 page answer, and compares every table with its state before. The
one transaction per request (views commit once, at the end) is what is tested.
"""

from __future__ import annotations

import html
import io
import re
import tempfile
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.org import Role
from accounting.periods import get_or_create_period
from app.models import metadata
from tests.conftest import TEST_PASSWORD


class Crash(RuntimeError):
    """The injected fault."""


def sizes(db: Session) -> dict[str, int]:
    """Rows per table (the rate-limit counters are not business data)."""
    db.expire_all()
    return {
        name: db.scalar(select(func.count()).select_from(table))
        for name, table in metadata.tables.items()
        if name != "rate_limits"
    }


def crash_after(target: Callable[..., Any]) -> Callable[..., Any]:
    """``target`` runs (and writes), then the fault strikes."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        target(*args, **kwargs)
        raise Crash("panne simulée après l'écriture")

    return broken


@pytest.fixture
def no_propagation(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Let the app answer with its 500 page, as in production, instead of raising in the test."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return app


def _login(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302


def _upload(client: FlaskClient, data: bytes) -> str:
    """Upload a timesheet file for import; returns the token of its preview."""
    uploaded = client.post(
        "/temps/import", data={"document": (io.BytesIO(data), "t.csv")},
        content_type="multipart/form-data",
    )
    return re.search(r"fichier=([0-9a-f]{64})", uploaded.location)[1]


def _assert_500(response: Any) -> None:
    assert response.status_code == 500
    assert "rien n'a été enregistré" in html.unescape(response.get_data(as_text=True))


def test_a_crash_while_issuing_invoices_leaves_no_number_no_seal_no_issued_invoice(
    no_propagation: Flask, client: FlaskClient, db: Session, billing: Any, make_user,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accounting.invoicing.models import Invoice
    from app.invoices import usecases

    admin = make_user(Role.ADMIN)
    _login(client, admin.email)
    prepared = client.post("/factures/emettre?periode=2026-01", data={"action": "preparer"})
    assert prepared.status_code == 302
    before = sizes(db)
    assert before["invoices"] == 3
    # The last step of the use case: numbers taken, invoices sealed, sales entries posted.
    monkeypatch.setattr(usecases, "post_issued", crash_after(usecases.post_issued))
    response = client.post(
        "/factures/emettre?periode=2026-01",
        data={"action": "emettre", "issue_date": "2026-02-05"},
    )
    _assert_500(response)
    assert sizes(db) == before
    assert db.scalars(select(Invoice.status).distinct()).all() == ["draft"]
    assert db.scalars(select(Invoice.number).where(Invoice.number.is_not(None))).all() == []


def test_a_crash_while_importing_timesheets_adds_no_entry(
    no_propagation: Flask, client: FlaskClient, db: Session, cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import imports.timesheets as ts_import

    _login(client, cluster.accountant.email)
    data = (
        "Date;Intervenant;Adhérent;Service;Durée\r\n"
        "05/03/2026;compta@test.fr;A;COMPTA;1h30\r\n"
        "06/03/2026;compta@test.fr;B;COMPTA;2h\r\n"
    ).encode()
    token = _upload(client, data)
    before = sizes(db)
    # The bulk insert is done when the audit event is written: break there.
    monkeypatch.setattr(ts_import, "record_audit", crash_after(ts_import.record_audit))
    _assert_500(client.post("/temps/import/confirmer", data={"fichier": token}))
    assert sizes(db) == before
    # Once the fault is gone, the same file imports fully, once.
    monkeypatch.undo()
    monkeypatch.setitem(no_propagation.config, "PROPAGATE_EXCEPTIONS", False)
    done = client.post("/temps/import/confirmer", data={"fichier": token}, follow_redirects=True)
    assert "2 saisies ajoutées." in done.get_data(as_text=True)
    assert sizes(db)["work_entries"] == before["work_entries"] + 2


def test_a_crash_while_closing_a_period_leaves_it_open_and_unsealed(
    no_propagation: Flask, client: FlaskClient, db: Session, make_user,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import accounting.periods as periods

    admin = make_user(Role.ADMIN)
    period = get_or_create_period(db, "2026-04")
    _login(client, admin.email)
    before = sizes(db)
    monkeypatch.setattr(periods, "record_audit", crash_after(periods.record_audit))
    _assert_500(client.post(f"/repartition/periodes/{period.id}/cloturer"))
    assert sizes(db) == before
    db.refresh(period)
    assert period.status == "open"


def test_a_crash_while_writing_an_export_changes_nothing_and_sends_no_file(
    no_propagation: Flask, client: FlaskClient, db: Session, cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import app.timesheets.routes as routes
    from timesheets import services

    services.create_entry(
        db, cluster.accountant,
        services.EntryData(day=date(2026, 3, 5), minutes=90, member_id=cluster.a.id,
                           service_id=cluster.compta.id),
    )
    db.flush()
    _login(client, cluster.accountant.email)
    before = sizes(db)
    monkeypatch.setattr(routes, "write_entries_xlsx", crash_after(routes.write_entries_xlsx))
    # The route leaves its temporary file open when the writer fails (reported to its area):
    # keep hold of it and close it here, or its ResourceWarning would fail a later test.
    opened: list[Any] = []
    real_temporary_file = tempfile.TemporaryFile

    def tracked(*args: Any, **kwargs: Any) -> Any:
        opened.append(real_temporary_file(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", tracked)
    response = client.get("/temps/saisies/export.xlsx?du=2026-03-01&au=2026-03-31")
    for handle in opened:
        handle.close()
    _assert_500(response)
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert sizes(db) == before


def _duplicate_member(session: Session, *args: Any, **kwargs: Any) -> None:
    """Two people saving the same thing at once: the unique code refuses the second."""
    from accounting.org import Member

    session.add(Member(code="A", name="Doublon", joined_on=date(2020, 1, 1)))
    session.flush()


def _out_of_range(*args: Any, **kwargs: Any) -> None:
    """A value the database cannot hold, that no check caught."""
    from sqlalchemy.exc import DataError

    raise DataError("UPDATE …", {}, Exception("integer out of range"))


def _busy(*args: Any, **kwargs: Any) -> None:
    """SQLite's one writer busy past the timeout (or PostgreSQL unreachable)."""
    from sqlalchemy.exc import OperationalError

    raise OperationalError("INSERT …", {}, Exception("database is locked"))


@pytest.mark.parametrize(
    ("refusal", "status"), [(_duplicate_member, 409), (_out_of_range, 400), (_busy, 503)]
)
def test_a_database_refusal_at_the_edge_gets_a_french_page_and_nothing_saved(
    client: FlaskClient, db: Session, cluster: Any, monkeypatch: pytest.MonkeyPatch,
    refusal: Callable[..., None], status: int,
) -> None:
    """A constraint, a type or a busy database refusing the write late in a request: rolled
    back, and the user is told in French (409 conflict, 400 out of range, 503 busy), never a
    500."""
    import imports.timesheets as ts_import

    _login(client, cluster.accountant.email)
    data = "Date;Intervenant;Adhérent;Service;Durée\r\n05/03/2026;compta@test.fr;A;COMPTA;1h\r\n"
    token = _upload(client, data.encode())
    before = sizes(db)
    monkeypatch.setattr(ts_import, "record_audit", refusal)
    response = client.post("/temps/import/confirmer", data={"fichier": token})
    assert response.status_code == status
    assert "rien n'a été enregistré" in html.unescape(response.get_data(as_text=True))
    assert sizes(db) == before


def test_a_nul_character_no_form_check_caught_never_gives_a_500(
    client: FlaskClient, cluster: Any, db: Session
) -> None:
    """Found by the form fuzzer on PostgreSQL, which refuses NUL in text (/temps/services): the
    French 400 page, nothing written. (SQLite stores it; forms that check for NUL, like the
    admin's, refuse it with their own message.)"""
    _login(client, cluster.admin.email)
    before = sizes(db)
    responses = [
        client.post(f"/temps/services/{cluster.compta.id}",
                    data={"nom": "Comptes\x00 annuels", "quoi": "activite", "actif": "1"}),
        client.get("/temps/saisies?adherent=A%00"),
    ]
    for response in responses:
        assert response.status_code < 500
        if response.status_code == 400:
            assert "rien n'a été enregistré" in html.unescape(response.get_data(as_text=True))
            assert sizes(db) == before


def test_a_huge_number_in_a_hidden_id_gets_a_400_not_a_500(
    client: FlaskClient, cluster: Any, db: Session
) -> None:
    """Found by the form fuzzer: an id of 10^20 used to reach SQLite's driver (OverflowError)
    or PostgreSQL (out of range); now refused at the edge with a French 400 naming it."""
    _login(client, cluster.admin.email)
    before = sizes(db)
    response = client.post(
        f"/temps/services/{cluster.compta.id}",
        data={"quoi": "activite", "id": str(10**20), "nom": "Nouvelle", "actif": "1"},
    )
    assert response.status_code == 400, response.status_code
    assert "Le paramètre « id » doit être un identifiant (entier de 1 à 2147483647)" in (
        html.unescape(response.get_data(as_text=True))
    )
    assert sizes(db) == before
