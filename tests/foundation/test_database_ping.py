"""Pooled PostgreSQL connections are checked before use only after they rested
(app/database.py: one round trip less per request than SQLAlchemy's pre-ping), and one the
server dropped meanwhile is replaced, not handed to the request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

import app.database as database
from app.database import make_engine
from tests.conftest import is_postgres


@pytest.fixture
def engine(fresh_db_url: str) -> Any:
    if not is_postgres(fresh_db_url):
        pytest.skip("pooled server connections: a PostgreSQL test (SQLite opens a file)")
    engine = make_engine(fresh_db_url, pool_size=1)
    yield engine
    engine.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        calls.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return calls


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def test_a_connection_reused_at_once_is_not_pinged_one_that_rested_is(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(engine, monkeypatch)
    first = _backend(engine)  # a new connection: nothing to check
    assert _backend(engine) == first and pings == []  # back within 10 s: no round trip
    monkeypatch.setattr(database, "PING_AFTER_SECONDS", 0.0)
    assert _backend(engine) == first and pings == [1]


def test_a_connection_the_server_dropped_while_it_rested_is_replaced(
    engine: Engine, fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    killer = make_engine(fresh_db_url, poolclass=NullPool)
    with killer.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    killer.dispose()
    monkeypatch.setattr(database, "PING_AFTER_SECONDS", 0.0)
    second = _backend(engine)  # the request gets a live connection, not an error
    assert second != first
