"""Login, logout, password change, CSRF and the default-deny access rule."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.org import Role, User
from tests.conftest import TEST_PASSWORD


def test_login_with_the_right_password_opens_the_home_page(client, make_user) -> None:
    user = make_user(Role.TREASURER)
    response = client.post("/login", data={"email": user.email.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 302
    page = client.get("/accueil")
    assert page.status_code == 200
    assert "Bonjour" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_french_message(client, make_user) -> None:
    user = make_user(Role.TREASURER)
    response = client.post("/login", data={"email": user.email, "password": "pas le bon"})
    assert response.status_code == 200
    assert "E-mail ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/accueil").status_code == 302


def test_inactive_user_cannot_log_in(client, make_user, db: Session) -> None:
    user = make_user(Role.ADMIN)
    user.active = False
    db.flush()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert "E-mail ou mot de passe incorrect" in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/accueil")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_refuses_an_offsite_next_url(client, make_user) -> None:
    user = make_user(Role.ADMIN)
    response = client.post(
        "/login?next=//evil.example/x", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"].endswith("/accueil")


def test_passwords_are_stored_as_argon2_hashes(make_user) -> None:
    user = make_user(Role.ADMIN)
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    assert user.check_password(TEST_PASSWORD)
    assert not user.check_password(TEST_PASSWORD + "x")


def test_password_change_requires_the_current_password_and_is_audited(
    client, login_as, db: Session
) -> None:
    user = login_as(Role.DEVELOPER)
    bad = client.post(
        "/password",
        data={"current": "faux", "new": "un-nouveau-secret", "confirm": "un-nouveau-secret"},
    )
    assert "Mot de passe actuel incorrect" in bad.get_data(as_text=True)
    ok = client.post(
        "/password",
        data={"current": TEST_PASSWORD, "new": "un-nouveau-secret", "confirm": "un-nouveau-secret"},
    )
    assert ok.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).check_password("un-nouveau-secret")
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "password_change")
    ).all()
    assert [e.object_id for e in events] == [str(user.id)]
    assert all("password_hash" not in (e.after or {}) for e in db.scalars(select(AuditEvent)))


def test_post_without_csrf_token_is_refused(app: Flask, client, make_user, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user(Role.ADMIN)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "Formulaire expiré" in response.get_data(as_text=True)


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and getattr(app.view_functions[rule.endpoint], "_access", None) is None
    ]
    assert undeclared == []


def test_logout_needs_a_post(client, login_as) -> None:
    login_as(Role.ADMIN)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/accueil").status_code == 302
