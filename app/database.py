"""Engine and per-request session.

One engine per app; one session per request (``get_db()``), closed at teardown, rolled back
unless the view committed. Views commit; domain services only flush.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask import current_app as _current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app import anchor


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with SQLite made transactional the way SQLAlchemy documents it.

    pysqlite's own transaction handling breaks SAVEPOINT; we let SQLAlchemy emit BEGIN, and we
    turn foreign keys on.
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def init_app(app: Flask) -> None:
    bind = app.config.get("DB_BIND")  # tests pass a connection inside an outer transaction
    if bind is None:
        bind = make_engine(app.config["DATABASE_URL"])
        app.extensions["mutualise.engine"] = bind
        factory = sessionmaker(bind=bind, expire_on_commit=False)
    else:
        factory = sessionmaker(
            bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
    app.extensions["mutualise.sessionmaker"] = factory
    app.teardown_appcontext(_close_session)


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or _current_app).extensions["mutualise.sessionmaker"]


def get_db() -> Session:
    """The session of the current request (or CLI command), created on first use."""
    if "db_session" not in g:
        session = anchor.attach(session_factory()(), _current_app.config.get("SEAL_ANCHOR"))
        session.info["actor"] = _web_actor
        g.db_session = session
    return g.db_session


def _web_actor() -> tuple[int | None, str]:
    """The logged-in user, read when the audit hook needs it (after login has happened)."""
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, g.get("actor_label", "système")


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
