"""Migrations: upgrade from an empty database to head gives exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.database import make_engine
from app.migrate import alembic_config, upgrade
from app.models import metadata


def test_upgrade_from_empty_database_matches_the_models(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
        assert diff == []
    finally:
        engine.dispose()


def test_migration_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
