"""Login throttling: account lockout in the users table, per-address limit in shared storage."""

from __future__ import annotations

import time
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.db import utcnow
from accounting.org import Role, User
from app.database import make_engine
from app.security import LOCKOUT_MINUTES, MAX_FAILED_LOGINS, RateLimitCounter, SQLStorage
from tests.conftest import TEST_PASSWORD


def _login(client: FlaskClient, email: str, password: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    client: FlaskClient, make_user, db: Session
) -> None:
    user = make_user(Role.TREASURER)
    for attempt in range(1, MAX_FAILED_LOGINS):
        page = _login(client, user.email, "mauvais-mot-de-passe").get_data(as_text=True)
        assert "E-mail ou mot de passe incorrect" in page
        db.expire_all()
        assert db.get(User, user.id).failed_logins == attempt
    page = _login(client, user.email, "mauvais-mot-de-passe").get_data(as_text=True)
    assert "ce compte est verrouillé. Réessayez dans 15 minutes." in page
    db.expire_all()
    locked = db.get(User, user.id)
    assert locked.locked_until is not None
    remaining = locked.locked_until - utcnow()
    assert timedelta(minutes=LOCKOUT_MINUTES - 1) < remaining <= timedelta(minutes=LOCKOUT_MINUTES)
    # The right password does not open a locked account.
    refused = _login(client, user.email, TEST_PASSWORD)
    assert refused.status_code == 200
    assert "verrouillé" in refused.get_data(as_text=True)
    assert client.get("/accueil").status_code == 302
    locks = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "lock", AuditEvent.object_id == str(user.id))
    ).all()
    assert len(locks) == 1


def test_a_lock_ends_by_itself_and_a_good_login_resets_the_count(
    client: FlaskClient, make_user, db: Session
) -> None:
    user = make_user(Role.ADMIN)
    user.locked_until = utcnow() - timedelta(seconds=1)
    user.failed_logins = 3
    db.flush()
    assert _login(client, user.email, TEST_PASSWORD).status_code == 302
    db.expire_all()
    fresh = db.get(User, user.id)
    assert fresh.failed_logins == 0
    assert fresh.locked_until is None


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(
    client: FlaskClient, make_user
) -> None:
    user = make_user(Role.ADMIN)
    unknown = _login(client, "personne@example.fr", "peu-importe-ici").get_data(as_text=True)
    wrong = _login(client, user.email, "peu-importe-ici").get_data(as_text=True)
    assert "E-mail ou mot de passe incorrect" in unknown
    assert "E-mail ou mot de passe incorrect" in wrong


def test_too_many_attempts_from_one_address_get_a_french_429(make_app, make_user) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_LOGIN="3 per minute"
    )
    client = app.test_client()
    user = make_user(Role.ADMIN)
    codes = [_login(client, f"x{i}@example.fr", "peu-importe-ici").status_code for i in range(3)]
    assert codes == [200, 200, 200]
    blocked = _login(client, user.email, TEST_PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    assert blocked.headers["Retry-After"] == "60"
    # Another address is not affected; GET of the form is not counted.
    assert client.get("/login").status_code == 200
    other = _login(client, user.email, TEST_PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302


def test_behind_a_proxy_the_limit_applies_to_the_real_client_address(
    make_app, make_user
) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_LOGIN="2 per minute",
        PROXY_HOPS=1,
    )
    client = app.test_client()

    def attempt(address: str) -> int:
        return _login(
            client, "x@example.fr", "peu-importe-ici", headers={"X-Forwarded-For": address}
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    # Same proxy (REMOTE_ADDR), another client: its own budget.
    assert attempt("203.0.113.2") == 200


def _storage(url: str) -> tuple[SQLStorage, Engine]:
    engine = make_engine(url)
    RateLimitCounter.__table__.create(engine, checkfirst=True)
    return SQLStorage("mutualise+sql://", engine=engine), engine


def test_sql_storage_counts_in_fixed_windows_shared_by_processes(fresh_db_url: str) -> None:
    first, engine_a = _storage(fresh_db_url)
    second, engine_b = _storage(fresh_db_url)  # another process: its own engine, same database
    try:
        assert first.check()
        assert first.incr("login/1.2.3.4", expiry=60) == 1
        assert second.incr("login/1.2.3.4", expiry=60) == 2
        assert first.get("login/1.2.3.4") == 2
        assert second.get("login/other") == 0
        assert time.time() + 55 < first.get_expiry("login/1.2.3.4") <= time.time() + 60
        # An ended window starts again from the amount.
        assert first.incr("short", expiry=0) == 1
        assert first.get("short") == 0
        assert first.incr("short", expiry=60, amount=3) == 3
        second.clear("login/1.2.3.4")
        assert first.get("login/1.2.3.4") == 0
        assert first.reset() == 1
        assert first.get("short") == 0
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_the_login_limit_is_shared_by_two_app_processes(fresh_db_url: str, tmp_path) -> None:
    """Two apps on one database (two gunicorn workers): attempts on one count on the other."""
    from app import create_app
    from app.migrate import upgrade

    upgrade(fresh_db_url)
    config = {
        "TESTING": True,
        "DATABASE_URL": fresh_db_url,
        "SECRET_KEY": "s" * 40,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "3 per minute",
    }
    one, two = create_app(dict(config)), create_app(dict(config))
    try:
        assert one.config["RATELIMIT_STORAGE_URI"] == "mutualise+sql://"
        clients = [one, one, two, two, one]
        codes = [
            _login(app.test_client(), "a@b.fr", "peu-importe-ici").status_code for app in clients
        ]
        assert codes == [200, 200, 200, 429, 429]
    finally:
        for app in (one, two):
            app.extensions["mutualise.engine"].dispose()
