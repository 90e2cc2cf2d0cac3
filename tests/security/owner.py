"""Playing the attacker who owns the database: the seal triggers dropped for a tampering, put
back afterwards (SQLite may not roll DDL back with the test's transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from accounting.seal import DROP_SEAL_TRIGGERS, SEAL_TRIGGERS


@contextmanager
def without_seal_triggers(db: Session) -> Iterator[None]:
    dialect = db.get_bind().dialect.name
    for statement in DROP_SEAL_TRIGGERS[dialect]:
        db.execute(text(statement))
    try:
        yield
    finally:
        for statement in SEAL_TRIGGERS[dialect]:
            db.execute(text(statement))
