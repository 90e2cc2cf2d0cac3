"""Upgrading from every earlier revision to head, on a database that holds data.

An installation upgrades from whatever revision it runs. For each revision of the chain: a
fresh database is migrated to it, given a few rows (members, services, users: the tables every
revision has), then upgraded to head; the schema must equal the models and the rows must still
be there. Runs on SQLite, and on PostgreSQL when DATABASE_URL names one (CI does both).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, insert, select

from app.database import make_engine
from app.migrate import alembic_config, upgrade
from app.models import metadata

_SCRIPTS = ScriptDirectory.from_config(alembic_config())
CHAIN = [r.revision for r in reversed(list(_SCRIPTS.walk_revisions()))]


def _seed(conn) -> None:  # type: ignore[no-untyped-def]
    """Rows in the foundation tables, written with the schema of the current revision."""
    tables = MetaData()
    tables.reflect(conn, only=["members", "services", "users"])
    members, services, users = (tables.tables[n] for n in ("members", "services", "users"))
    conn.execute(
        insert(members),
        [
            {"code": "VH", "name": "Val Horizon", "legal_form": "Association", "address": "",
             "joined_on": date(2020, 1, 1)},
            {"code": "JD", "name": "Jardins de la Dombes", "legal_form": "SCOP", "address": "",
             "joined_on": date(2021, 6, 1), "left_on": date(2026, 3, 31)},
        ],
    )
    conn.execute(
        insert(services),
        [{"code": "COMPTA", "name": "Comptabilité", "revenue_account": "706000",
          "expense_account": "6226", "active": True}],
    )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    if conn.dialect.name == "sqlite":  # reflected as a plain DATETIME: naive UTC
        created = created.replace(tzinfo=None)
    conn.execute(
        insert(users),
        [{"email": "admin@pole.fr", "name": "Admin", "password_hash": "", "roles": "admin",
          "active": True, "created_at": created, "failed_logins": 0}],
    )


def test_the_chain_is_the_one_the_areas_were_given() -> None:
    assert CHAIN == [
        "0001_foundation", "0002_timesheets", "0003_allocation", "0004_invoices",
        "0005_ledger", "0006_hardening", "0007_fiscal_year", "0008_sessions",
        "0010_corrections", "0011_books", "0012_api_tokens", "0013_facturx",
        "0014_user_gender", "0015_budgets", "0016_page_indexes", "0017_payroll15",
        "0017_pages16", "0018_pages16b", "0019_balances16c",
    ]


@pytest.mark.parametrize("start", CHAIN[:-1])
def test_upgrade_from_an_earlier_revision_with_data_reaches_the_models(
    start: str, fresh_db_url: str
) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn, revision=start)
            _seed(conn)
            conn.commit()
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
            members = conn.execute(
                select(func.count()).select_from(metadata.tables["members"])
            ).scalar()
        assert version == CHAIN[-1]
        assert diff == []
        assert members == 2
    finally:
        engine.dispose()
