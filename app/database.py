"""Engine and per-request session.

One engine per app; one session per request (``get_db()``), closed at teardown, rolled back
unless the view committed. Views commit; domain services only flush.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, g
from flask import current_app as _current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
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
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


#: A pooled connection back from at least this many seconds of rest is checked (one round
#: trip) before a request uses it; a connection reused sooner is not.
PING_AFTER_SECONDS = 10.0
_RESTING_SINCE = "mutualise.resting_since"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, only for connections that rested.

    Why: the pre-ping sends ``SELECT 1`` before every checkout, i.e. one more round trip to
    PostgreSQL on every request (28 % of the session check under load). What it guards
    against is a connection the server dropped while it sat in the pool (a restart, a
    failover, an idle timeout), which happens while it rests, not between two requests a few
    milliseconds apart. A dropped connection found here is replaced before the request uses
    it (SQLAlchemy's documented recipe: ``DisconnectionError`` in the checkout event)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _resting(dbapi_connection: Any, record: Any) -> None:
        record.info[_RESTING_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_RESTING_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError(str(error)) from error
            raise


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
