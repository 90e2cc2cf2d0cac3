"""Shared fixtures.

The database is SQLite (a temporary file) unless ``DATABASE_URL`` names another one (CI runs
the suite again on PostgreSQL). The schema is created once per session; each test runs inside
an outer transaction that is rolled back, and the app's sessions join it through savepoints,
so a view's ``commit()`` is real for the test yet leaves nothing behind.

Tests that need real commits across connections (concurrency, a live server) make their own
database with :func:`fresh_database_url`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import accounting.org
from accounting.org import Member, Role, Service, User
from app import create_app
from app.database import make_engine
from app.models import metadata

TEST_PASSWORD = "motdepasse-de-test"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """The path of an external program; skip (with the reason) without it, but fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed on this machine"
        if IN_CI:
            pytest.fail(f"{message}, and CI=true requires it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2's production cost would dominate the suite; the algorithm stays the same."""
    original = accounting.org.PASSWORD_HASHER
    accounting.org.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    accounting.org.PASSWORD_HASHER = original


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite by default; with DATABASE_URL (PostgreSQL), a new database on that server for this
    run, so that concurrent runs never share tables."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield from fresh_database_url(
            url.replace("postgresql://", "postgresql+psycopg://", 1), tmp_path_factory.mktemp("db")
        )
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    session.info["actor_label"] = "test"
    yield session
    session.close()


@pytest.fixture(scope="session")
def _app(database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "MUTUALISE_ENV": "testing",
            "RATELIMIT_ENABLED": False,
            "TEST_OUTPUT": str(tmp_path_factory.mktemp("output")),
        }
    )


@pytest.fixture
def app(_app: Flask, connection: Connection) -> Iterator[Flask]:
    """The app, its sessions joined to the test's outer transaction."""
    _app.extensions["mutualise.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    # Per-app caches start empty in every test (the rendered downloads: app/downloads.py).
    _app.extensions.pop("mutualise_downloads", None)
    yield _app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


#: The user the CLI tests act as (``--user`` / ``MUTUALISE_USER``, DESIGN §4): a coordinator
#: who is also accountant and treasurer, so every acting command is allowed.
CLI_USER = "cli-tresorerie@test.fr"


class _ActingRunner(FlaskCliRunner):
    """A CLI runner whose commands act as :data:`CLI_USER` unless the test says otherwise
    (``env={"MUTUALISE_USER": ...}``, or ``None`` to leave it out)."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Any:
        env = dict(kwargs.pop("env", None) or {})
        env.setdefault("MUTUALISE_USER", CLI_USER)
        return super().invoke(cli, args, env=env, **kwargs)


@pytest.fixture
def runner(app: Flask, db: Session) -> Any:
    user = User(email=CLI_USER, name="Trésorerie (ligne de commande)")
    user.role_set = {Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER}
    user.set_password(TEST_PASSWORD)
    db.add(user)
    db.flush()
    return _ActingRunner(app)


@pytest.fixture
def make_member(db: Session) -> Callable[..., Member]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, **fields: Any) -> Member:
        n = next(counter)
        member = Member(
            code=code or f"M{n:03d}",
            name=fields.pop("name", f"Adhérent {n}"),
            joined_on=fields.pop("joined_on", date(2020, 1, 1)),
            **fields,
        )
        db.add(member)
        db.flush()
        return member

    return make


@pytest.fixture
def make_service(db: Session) -> Callable[..., Service]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, **fields: Any) -> Service:
        n = next(counter)
        service = Service(code=code or f"S{n}", name=fields.pop("name", f"Service {n}"), **fields)
        db.add(service)
        db.flush()
        return service

    return make


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    def make(*roles: Role, member: Member | None = None, email: str | None = None) -> User:
        user = User(
            email=email or f"{'-'.join(roles) or 'user'}-{uuid.uuid4().hex[:8]}@test.fr",
            name="Utilisateur de test",
            member_id=member.id if member else None,
        )
        user.role_set = set(roles)
        user.set_password(TEST_PASSWORD)
        db.add(user)
        db.flush()
        return user

    return make


@pytest.fixture
def login_as(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., User]:
    """Log the test client in through the real login form; returns the user."""

    def login(*roles: Role, member: Member | None = None) -> User:
        user = make_user(*roles, member=member)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return login


@pytest.fixture
def output_dir(app: Flask, request: pytest.FixtureRequest) -> Path:
    """A folder kept after the run for files a test produces (screenshots, workbooks)."""
    path = Path(os.environ.get("TEST_OUTPUT_DIR", "test-output")) / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_database_url(base_url: str, tmp_path: Path) -> Iterator[str]:
    """A new empty database for tests that need real commits (a new PostgreSQL database or a
    new SQLite file); dropped afterwards."""
    if not is_postgres(base_url):
        yield f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"mutualise_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def fresh_db_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(database_url, tmp_path)
