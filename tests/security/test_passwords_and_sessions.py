"""Password rules, session expiry, and the production profile (secure cookies, shared key)."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Role, User
from app.security import InsecureConfiguration, password_problems
from tests.conftest import TEST_PASSWORD


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("court", "au moins 10 caractères"),
        ("aaaaaaaaaaaa", "au moins 5 caractères différents"),
        ("1212121212", "au moins 5 caractères différents"),
        ("Azerty1234!", "trop courant"),
        ("MotDePasse2026", "trop courant"),
        ("P@ssword!!99", "trop courant"),
        ("camille.martin-2026", "votre nom ni votre e-mail"),
        ("x" * 150 + "abcdefghijklmnopqrstuvwxyz" * 3, "ne doit pas dépasser 200"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, expected: str) -> None:
    problems = password_problems(password, email="camille.martin@pole.fr", name="Camille Martin")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "password", ["motdepasse-de-test", "cheval correct pile agrafe", "Tr0mbone&Violon"]
)
def test_passphrases_and_ordinary_strong_passwords_pass(password: str) -> None:
    assert password_problems(password, email="camille.martin@pole.fr", name="Camille Martin") == []


def test_password_change_applies_the_rules(client: FlaskClient, login_as) -> None:
    login_as(Role.DEVELOPER)
    response = client.post(
        "/password", data={"current": TEST_PASSWORD, "new": "azerty12345", "confirm": "azerty12345"}
    )
    assert response.status_code == 200
    assert "trop courant" in response.get_data(as_text=True)


def test_the_command_line_applies_the_rules(runner, db: Session) -> None:
    from app.cli import cli

    result = runner.invoke(
        cli,
        args=["create-user", "nouveau@pole.fr", "--role", "admin", "--password", "soleil2026"]
    )
    assert result.exit_code == 1
    assert "trop courant" in result.output
    assert db.scalars(select(User).where(User.email == "nouveau@pole.fr")).first() is None


# ---------------------------------------------------------------- sessions


def test_a_session_idle_too_long_ends_with_a_french_message(
    client: FlaskClient, login_as
) -> None:
    login_as(Role.ADMIN)
    assert client.get("/accueil").status_code == 200
    with client.session_transaction() as session:
        session["_seen"] = int(time.time()) - 61 * 60
    response = client.get("/accueil")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "next=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre session a expiré" in page
    assert client.get("/accueil").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(
    app, client: FlaskClient, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", 8 * 3600)  # as in production
    login_as(Role.ADMIN)
    with client.session_transaction() as session:
        session["_since"] = int(time.time()) - 8 * 3600 - 1
    assert client.get("/accueil").status_code == 302


def test_an_active_session_goes_on(client: FlaskClient, login_as) -> None:
    login_as(Role.ADMIN)
    with client.session_transaction() as session:
        session["_seen"] = int(time.time()) - 59 * 60
        assert session.permanent
    assert client.get("/accueil").status_code == 200
    with client.session_transaction() as session:
        assert session["_seen"] >= int(time.time()) - 5


# ---------------------------------------------------------------- production profile


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("MUTUALISE_ENV", "production")
    monkeypatch.setenv("MUTUALISE_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    return monkeypatch


def test_production_cookies_are_secure_httponly_and_samesite(production_env) -> None:
    from app import create_app

    app = create_app()
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["RATELIMIT_STORAGE_URI"] == "mutualise+sql://"
        response = app.test_client().get("/login")  # sets the CSRF secret in the session
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert cookie.startswith("__Host-mutualise=") and "Path=/" in cookie
        assert "Domain" not in cookie
    finally:
        app.extensions["mutualise.engine"].dispose()


def test_production_refuses_a_secret_key_generated_on_one_machine(production_env) -> None:
    from app import create_app

    production_env.delenv("SECRET_KEY")
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY must come from the environment"):
        create_app()


def test_production_refuses_a_short_key_and_a_per_process_limiter(production_env) -> None:
    from app import create_app

    production_env.setenv("SECRET_KEY", "court")
    production_env.setenv("MUTUALISE_RATELIMIT_STORAGE", "memory://")
    with pytest.raises(InsecureConfiguration) as refused:
        create_app()
    assert "at least 32 characters" in str(refused.value)
    assert "rate-limit storage must be shared" in str(refused.value)


def test_a_password_change_ends_the_other_sessions_of_the_account(
    app, client: FlaskClient, login_as
) -> None:
    user = login_as(Role.TREASURER)
    elsewhere = app.test_client()  # the same account, in another browser
    assert elsewhere.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD}
    ).status_code == 302
    assert elsewhere.get("/accueil").status_code == 200
    changed = client.post(
        "/password",
        data={"current": TEST_PASSWORD, "new": "un-nouveau-secret", "confirm": "un-nouveau-secret"},
    )
    assert changed.status_code == 302
    assert client.get("/accueil").status_code == 200  # the browser that changed it stays in
    ended = elsewhere.get("/accueil")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    page = elsewhere.get(ended.headers["Location"]).get_data(as_text=True)
    assert "Le mot de passe de ce compte a changé" in page
