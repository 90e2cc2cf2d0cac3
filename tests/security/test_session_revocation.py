"""Server-side sessions (issue 13): every login is a row of ``user_sessions`` checked on every
request; what ends it, and that a copied cookie dies with it.

The first tests run in the suite's rolled-back transaction; the last ones on a database of
their own with real commits and two app processes' worth of clients (a session ended by one
request must be refused by the next, whatever connection serves it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from accounting.db import utcnow
from accounting.org import Role, User
from accounting.sessions import UserSession
from app import create_app
from app.database import make_engine
from app.models import metadata
from tests.conftest import TEST_PASSWORD

A, T, D = Role.ADMIN, Role.TREASURER, Role.DEVELOPER


def _login(client: FlaskClient, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _ended_with(client: FlaskClient, message: str) -> None:
    response = client.get("/accueil")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page, page[:2000]
    assert client.get("/accueil").status_code == 302  # and stays ended


@pytest.fixture
def two_browsers(
    app: Flask, make_user: Callable[..., User]
) -> tuple[User, FlaskClient, FlaskClient]:
    user = make_user(A)
    first, second = app.test_client(), app.test_client()
    _login(first, user)
    _login(second, user)
    assert first.get("/accueil").status_code == 200 and second.get("/accueil").status_code == 200
    return user, first, second


def test_each_login_is_a_row_and_logout_ends_only_that_one(
    db: Session, two_browsers: tuple[User, FlaskClient, FlaskClient]
) -> None:
    user, first, second = two_browsers
    rows = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 2 and all(r.ended_at is None for r in rows)
    assert first.post("/logout").status_code == 302
    db.expire_all()
    reasons = sorted(str(r.end_reason) for r in db.scalars(
        select(UserSession).where(UserSession.user_id == user.id)))  # fmt: skip
    assert reasons == ["None", "logout"]
    assert second.get("/accueil").status_code == 200  # the other browser goes on
    assert first.get("/accueil").status_code == 302


def test_logging_out_everywhere_ends_every_session_of_the_account(
    two_browsers: tuple[User, FlaskClient, FlaskClient],
) -> None:
    _user, first, second = two_browsers
    page = first.get("/password").get_data(as_text=True)
    assert "Se déconnecter partout" in page and "ouvert dans 2 sessions" in page
    response = first.post("/logout/partout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert first.get("/accueil").status_code == 302
    _ended_with(second, "déconnexion de tous les appareils")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda u: u.set_password("un-tout-autre-secret"), "Le mot de passe de ce compte a changé"),
        (lambda u: setattr(u, "role_set", {T}), "Les droits de ce compte ont changé"),
        (lambda u: setattr(u, "active", False), "Ce compte a été désactivé"),
    ],
    ids=["password", "roles", "deactivated"],
)
def test_an_account_change_ends_every_session_whoever_makes_it(
    db: Session, two_browsers: tuple[User, FlaskClient, FlaskClient], change, message: str
) -> None:
    """Made in the domain (the command line, an admin page, a reset link all end here)."""
    user, first, second = two_browsers
    change(user)
    db.flush()
    _ended_with(first, message)
    _ended_with(second, message)


def test_the_session_row_and_its_active_user_are_read_in_one_statement(
    db: Session, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """On PostgreSQL each statement is a round trip: the session check reads the user with the
    row, so the user loader issues nothing; a user made inactive without going through the
    ORM (whose hook would have ended the sessions) is still refused at the next request."""
    user = make_user(A)
    _login(client, user)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get("/accueil").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    reading_users = [text for text in statements if re.search(r"\b(FROM|JOIN) users\b", text)]
    assert len(reading_users) == 1, reading_users
    assert "FROM user_sessions LEFT OUTER JOIN users" in reading_users[0]
    db.execute(update(User).where(User.id == user.id).values(active=False))
    response = client.get("/accueil")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_admin_page_changing_roles_ends_the_user_s_sessions(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], login_as
) -> None:
    staff = make_user(D)
    browser = app.test_client()
    _login(browser, staff)
    login_as(A)
    response = client.post(
        f"/admin/utilisateurs/{staff.id}",
        data={"email": staff.email, "name": staff.name, "roles": ["treasurer"], "active": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    _ended_with(browser, "Les droits de ce compte ont changé")
    assert client.get("/accueil").status_code == 200  # the admin's own session is untouched


def test_the_server_side_idle_and_absolute_limits(
    app: Flask, db: Session, client: FlaskClient, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = login_as(A)
    row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=61)
    db.flush()
    _ended_with(client, "Votre session a expiré")
    db.expire_all()
    assert row.end_reason == "idle"
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    _login(client, user)
    row = db.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))).one()  # fmt: skip
    row.created_at = utcnow() - timedelta(hours=8, seconds=1)
    db.flush()
    _ended_with(client, "Votre session a expiré")


def test_a_signed_cookie_without_a_server_session_is_refused(client: FlaskClient, login_as) -> None:
    """A cookie signed before this release, or forged with a leaked key, names no row."""
    login_as(A)
    with client.session_transaction() as session:
        session["_sid"] = "inconnu"
    _ended_with(client, "Votre session a pris fin")


def test_a_password_change_renews_the_cookie_of_the_browser_that_made_it(
    app: Flask, client: FlaskClient, login_as
) -> None:
    login_as(T)
    before = client.get_cookie("session")
    assert before is not None
    response = client.post(
        "/password",
        data={"current": TEST_PASSWORD, "new": "un-nouveau-secret", "confirm": "un-nouveau-secret"},
    )
    assert response.status_code == 302
    assert client.get("/accueil").status_code == 200
    thief = app.test_client()
    thief.set_cookie("session", before.value)
    assert thief.get("/accueil").status_code == 302


# ---------------------------------------------------------------- real commits


@pytest.fixture
def live(fresh_db_url: str, tmp_path) -> Iterator[tuple[Flask, Engine]]:
    engine = make_engine(fresh_db_url)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as db:
        db.info["actor_label"] = "test"
        user = User(email="coordination@pole.fr", name="Coordination")
        user.role_set = {A}
        user.set_password(TEST_PASSWORD)
        db.add(user)
        db.commit()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_db_url,
            "SECRET_KEY": "x" * 40,
            "MUTUALISE_ENV": "testing",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
            "MUTUALISE_INSTANCE": str(tmp_path),
        }
    )
    yield app, engine
    app.extensions["mutualise.engine"].dispose()
    engine.dispose()


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found
    return found[1]


def _live_login(app: Flask) -> FlaskClient:
    """A browser logged in through the real form (CSRF token and all)."""
    browser = app.test_client()
    token = _token(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"email": "coordination@pole.fr",
                                        "password": TEST_PASSWORD,
                                        "csrf_token": token}).status_code == 302  # fmt: skip
    return browser


def test_with_real_commits_a_copied_cookie_dies_at_logout_and_its_token_too(
    live: tuple[Flask, Engine],
) -> None:
    app, engine = live
    browser = _live_login(app)
    page = browser.get("/repartition/periodes").get_data(as_text=True)
    inside = _token(page)
    copied = browser.get_cookie("session")
    assert copied is not None
    assert browser.post("/logout", data={"csrf_token": inside}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied.value)
    assert thief.get("/admin/utilisateurs").status_code == 302
    other_thief = app.test_client()  # the same copy, used for a POST first
    other_thief.set_cookie("session", copied.value)
    response = other_thief.post("/repartition/periodes",
                                data={"code": "2031-06", "csrf_token": inside})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/login" in response.headers["Location"]
    with Session(engine) as db:
        rows = db.scalars(select(UserSession)).all()
        assert [(r.end_reason is not None) for r in rows] == [True]
        from accounting.periods import Period

        assert db.scalars(select(Period)).all() == []


def _https(client: FlaskClient) -> FlaskClient:
    client.environ_base["wsgi.url_scheme"] = "https"  # secure cookies are sent over https only
    return client


def test_in_production_too_a_copied_cookie_dies_at_logout(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The attack run saw it in production mode too: secure __Host- cookie, CSRF on."""
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    for name, value in {"MUTUALISE_ENV": "production", "DATABASE_URL": url,
                        "MUTUALISE_INSTANCE": str(tmp_path / "instance"),
                        "SECRET_KEY": "p" * 48, "MUTUALISE_SEAL_ANCHOR": ""}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    engine = make_engine(url)
    with engine.begin() as conn:
        metadata.create_all(conn)
    with Session(engine) as db:
        db.info["actor_label"] = "test"
        admin = User(email="coordination@pole.fr", name="Coordination")
        admin.role_set = {A}
        admin.set_password(TEST_PASSWORD)
        db.add(admin)
        db.commit()
    app = create_app()
    try:
        app.config["RATELIMIT_ENABLED"] = False
        browser = _https(app.test_client())
        token = _token(browser.get("/login").get_data(as_text=True))
        response = browser.post(
            "/login",
            data={"email": "coordination@pole.fr", "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        copied = browser.get_cookie("__Host-mutualise")
        assert copied is not None and copied.secure
        inside = _token(browser.get("/accueil").get_data(as_text=True))
        assert browser.post("/logout", data={"csrf_token": inside}).status_code == 302
        thief = _https(app.test_client())
        thief.set_cookie("__Host-mutualise", copied.value, secure=True)
        response = thief.get("/admin/utilisateurs")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    finally:
        app.extensions["mutualise.engine"].dispose()
        engine.dispose()


def test_the_last_seen_touch_survives_a_write_by_another_connection_since_its_read(
    live: tuple[Flask, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load on SQLite the touch of ``last_seen_at`` failed with « database is locked »
    (a 503): the request's read transaction turned into a write after another worker had
    committed. Here the other worker's commit lands exactly between the session check's read
    and its touch."""
    app, engine = live
    browser = _live_login(app)
    stale = utcnow() - timedelta(minutes=5)  # older than the touch interval, not idle
    with engine.begin() as conn:
        conn.execute(update(UserSession).values(last_seen_at=stale))
    from accounting import sessions

    checked = sessions.refusal

    def refusal_then_another_worker_writes(*args: object, **kwargs: object) -> str | None:
        reason = checked(*args, **kwargs)  # type: ignore[arg-type]
        with engine.begin() as conn:  # another worker's request commits meanwhile
            conn.execute(update(User).values(name="Coordination du pôle"))
        return reason

    monkeypatch.setattr(sessions, "refusal", refusal_then_another_worker_writes)
    assert browser.get("/accueil").status_code == 200
    with Session(engine) as db:
        seen = db.scalars(select(UserSession.last_seen_at)).one()
        assert seen.replace(tzinfo=None) > stale.replace(tzinfo=None) + timedelta(minutes=4)
        assert db.scalars(select(User.name)).one() == "Coordination du pôle"
