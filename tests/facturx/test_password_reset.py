"""« Mot de passe oublié » by e-mail (real SMTP on the loopback), and the notice to the author
of entries sent back."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from accounting.db import utcnow
from accounting.org import Role
from app.password_reset import PasswordReset, request_reset, valid_token
from tests.conftest import TEST_PASSWORD
from tests.security.conftest import make_app  # noqa: F401
from tests.timesheets.conftest import cluster  # noqa: F401
from timesheets import services
from timesheets.models import EntryStatus
from timesheets.services import EntryData

NEW_PASSWORD = "un-nouveau-secret-de-pole"
SAME = "Si cette adresse correspond à un compte, un courriel vient de lui être envoyé"


def _link(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/reinitialiser/\S+)", body).group(1)


def test_a_reset_link_works_once_and_the_answer_never_tells_who_exists(
    client, make_user, smtp
) -> None:
    user = make_user(Role.ACCOUNTANT, email="compta@pole.example")
    known = client.post("/mot-de-passe-oublie", data={"email": "Compta@Pole.example"},
                        follow_redirects=True)
    unknown = client.post("/mot-de-passe-oublie", data={"email": "personne@pole.example"},
                          follow_redirects=True)
    assert SAME in known.get_data(as_text=True) and SAME in unknown.get_data(as_text=True)
    assert known.status_code == unknown.status_code == 200
    (message,) = smtp.messages  # nothing sent for the unknown address
    assert message["To"] == "compta@pole.example"
    link = _link(message)
    page = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert page.status_code == 302
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}
                       ).status_code == 302
    client.post("/logout")
    # Single use: the same link again is refused, the password stays.
    again = client.post(link, data={"password": "encore-un-autre-secret", "confirm":
                                    "encore-un-autre-secret"}, follow_redirects=True)
    assert "plus valable (déjà utilisé, expiré" in again.get_data(as_text=True)
    assert client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}
                       ).status_code == 200  # the old password no longer works


def test_a_token_expires_after_an_hour_and_a_newer_one_replaces_it(db, make_user) -> None:
    user = make_user(Role.ACCOUNTANT)
    now = utcnow()
    _, first = request_reset(db, user.email, now=now)
    assert valid_token(db, first, now=now + timedelta(minutes=59)) is not None
    assert valid_token(db, first, now=now + timedelta(minutes=61)) is None
    _, second = request_reset(db, user.email, now=now + timedelta(minutes=5))
    assert valid_token(db, first, now=now + timedelta(minutes=6)) is None
    assert valid_token(db, second, now=now + timedelta(minutes=6)) is not None
    assert valid_token(db, "pas-un-jeton") is None


def test_three_requests_an_hour_per_user_then_nothing_more_is_sent(
    db, client, make_user, smtp
) -> None:
    user = make_user(Role.TREASURER)
    for _ in range(5):
        response = client.post("/mot-de-passe-oublie", data={"email": user.email},
                               follow_redirects=True)
        assert SAME in response.get_data(as_text=True)
    assert len(smtp.messages) == 3
    stored = db.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id)).all()
    assert len(stored) == 3
    assert all(len(s.token_hash) == 64 for s in stored)  # only the hash is kept


def test_the_request_page_is_rate_limited_per_client_address(make_app, smtp) -> None:  # noqa: F811
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   RATELIMIT_PASSWORD_RESET="3 per minute")
    client = app.test_client()
    codes = [client.post("/mot-de-passe-oublie",
                         data={"email": f"x{i}@pole.example"}).status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    other = client.post("/mot-de-passe-oublie", data={"email": "y@pole.example"},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302


def test_a_weak_new_password_is_refused(db, client, make_user) -> None:
    user = make_user(Role.ACCOUNTANT)
    _, token = request_reset(db, user.email)
    page = client.post(f"/reinitialiser/{token}", data={"password": "court", "confirm": "court"})
    assert page.status_code == 200
    assert valid_token(db, token) is not None  # not spent


def test_the_author_of_entries_sent_back_gets_a_notice(client, cluster, db, smtp) -> None:  # noqa: F811
    entry = services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, cluster.a.id)
    ).entries[0]
    entry.status = EntryStatus.SUBMITTED
    db.flush()
    client.post("/login", data={"email": "tresorier@test.fr", "password": TEST_PASSWORD})
    response = client.post(
        "/temps/validation",
        data={"mois": "2026-03", "action": "renvoyer", "saisie": entry.id,
              "commentaire": "Mauvais adhérent"},
        follow_redirects=True,
    )
    assert "Auteurs prévenus par courriel : 1." in response.get_data(as_text=True)
    (message,) = smtp.messages
    assert message["To"] == "compta@test.fr"
    body = message.get_body(("plain",)).get_content()
    assert "05/03/2026" in body and "Mauvais adhérent" in body
