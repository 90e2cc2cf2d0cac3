"""Alembic environment: one metadata (app.models), SQLite in batch mode for ALTERs."""

from __future__ import annotations

from alembic import context

from app.config import database_url
from app.database import make_engine
from app.models import metadata

config = context.config


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url)
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run against a database")
run_online()
