"""``mutualise backup`` / ``restore`` round trip (every table identical) and ``mutualise verify``.

Run on the database of the suite: SQLite by default, PostgreSQL (pg_dump / pg_restore) when
DATABASE_URL names one. Real commits, so on a fresh database of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.db import utcnow
from accounting.org import Member, Role, Service, User
from accounting.periods import PeriodStatus, get_or_create_period
from accounting.seal import seal_record
from app import create_app
from app.cli import cli
from app.database import make_engine
from app.migrate import upgrade
from app.models import metadata
from tests.conftest import is_postgres, require_tool


@pytest.fixture
def live(fresh_db_url: str) -> Iterator[tuple[Flask, Engine]]:
    """An app on a migrated fresh database (real commits), and an engine to look at it."""
    if is_postgres(fresh_db_url):
        require_tool("pg_dump")
        require_tool("pg_restore")
    upgrade(fresh_db_url)
    app = create_app(
        {"TESTING": True, "DATABASE_URL": fresh_db_url, "SECRET_KEY": "s" * 40,
         "RATELIMIT_ENABLED": False}
    )
    engine = make_engine(fresh_db_url)
    yield app, engine
    engine.dispose()
    app.extensions["mutualise.engine"].dispose()


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    result = {}
    with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            result[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return result


def populate(engine: Engine) -> None:
    with Session(engine) as db:
        db.info["actor_label"] = "test"
        member = Member(code="VH", name="Val Horizon", joined_on=date(2020, 1, 1),
                        address="1 rue de la Mairie\n01000 Bourg")
        db.add_all([member, Service(code="COMPTA", name="Comptabilité / gestion")])
        db.flush()
        user = User(email="tresorier@pole.fr", name="Trésorier", member_id=None)
        user.role_set = {Role.TREASURER}
        user.set_password("motdepasse-de-test")
        db.add(user)
        period = get_or_create_period(db, "2026-01")
        period.status = PeriodStatus.CLOSED.value
        period.closed_at = utcnow()
        db.flush()
        seal_record(db, "periods", period.id, "close")
        record_audit(db, "close", "periods", period.id)
        db.commit()


def invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(cli, args=list(args))


def test_backup_then_restore_gives_back_every_table_identical(
    live: tuple[Flask, Engine], tmp_path: Path
) -> None:
    app, engine = live
    populate(engine)
    before = contents(engine)
    assert sum(len(rows) for rows in before.values()) >= 8

    out = tmp_path / "sauvegarde.bak"
    result = invoke(app, "backup", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and out.stat().st_size > 0

    with engine.begin() as conn:  # the day goes on after the backup
        conn.execute(text("UPDATE members SET name = 'Autre nom'"))
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(
            text("INSERT INTO services (code, name, revenue_account, expense_account, active) "
                 "VALUES ('DEV', 'Développement', '706000', '6226', true)")
        )
    changed = contents(engine)
    assert changed != before

    result = invoke(app, "restore", str(out), "--yes")
    assert result.exit_code == 0, result.output
    assert "Database restored" in result.output
    engine.dispose()
    assert contents(engine) == before
    assert invoke(app, "verify").exit_code == 0

    saved = Path(str(out) + ".before-restore")
    assert saved.is_file()
    if not is_postgres(str(engine.url)):
        previous = make_engine(f"sqlite:///{saved}")
        try:
            assert contents(previous) == changed
        finally:
            previous.dispose()


def test_a_backup_holds_only_committed_work(live: tuple[Flask, Engine], tmp_path: Path) -> None:
    app, engine = live
    populate(engine)
    expected = contents(engine)
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("UPDATE members SET name = 'en cours'"))
        result = invoke(app, "backup", "-o", str(tmp_path / "b.bak"))
        writer.commit()
    assert result.exit_code == 0, result.output
    assert invoke(app, "restore", str(tmp_path / "b.bak"), "--yes").exit_code == 0
    engine.dispose()
    assert contents(engine) == expected


def test_restore_refuses_a_file_that_is_not_a_backup(
    live: tuple[Flask, Engine], tmp_path: Path
) -> None:
    app, engine = live
    populate(engine)
    before = contents(engine)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("ceci n'est pas une sauvegarde")
    result = invoke(app, "restore", str(bogus), "--yes")
    assert result.exit_code == 1
    assert "Restore failed" in result.output and "is not a" in result.output
    assert contents(engine) == before


def test_restore_asks_for_confirmation_without_a_terminal(
    live: tuple[Flask, Engine], tmp_path: Path
) -> None:
    app, _ = live
    out = tmp_path / "b.bak"
    assert invoke(app, "backup", "-o", str(out)).exit_code == 0
    result = invoke(app, "restore", str(out))
    assert result.exit_code == 1
    assert "without --yes" in result.output


def test_verify_names_the_record_altered_behind_the_application(
    live: tuple[Flask, Engine],
) -> None:
    app, engine = live
    populate(engine)
    ok = invoke(app, "verify")
    assert ok.exit_code == 0, ok.output
    assert "Hash chain intact: 1 seals over 1 records" in ok.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE periods SET closed_at = NULL"))
    altered = invoke(app, "verify")
    assert altered.exit_code == 1
    assert "ALTERED: first problem at seal #1: periods 2026-01" in altered.output
    assert "row.closed_at" in altered.output


def test_verify_without_an_anchor_warns_loudly(
    live: tuple[Flask, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: without the anchor file, a truncated chain was called intact with no word."""
    app, engine = live
    populate(engine)
    monkeypatch.setitem(app.config, "SEAL_ANCHOR", "")
    result = invoke(app, "verify")
    assert result.exit_code == 0
    assert "Hash chain intact" in result.output
    assert "WARNING: no anchor file is configured" in result.output
    assert "cannot see links removed at the end" in result.output


def test_verify_finds_daily_totals_apart_from_the_lines_and_rebuild_mends_them(
    live: tuple[Flask, Engine],
) -> None:
    """The trial balance reads the per-account daily totals: a row there that no journal line
    backs (written behind the trigger) fails `verify`, naming it; `rebuild-totals` mends it."""
    app, engine = live
    populate(engine)
    ok = invoke(app, "verify")
    assert ok.exit_code == 0 and "Daily account totals: equal to the journal lines." in ok.output
    cents = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO account_days (account, day, debit, credit) "
                          "VALUES ('606400', :day, :debit, 0)"),
                     {"day": date(2026, 1, 5), "debit": 125 if cents else Decimal("1.25")})
    apart = invoke(app, "verify")
    assert apart.exit_code == 1
    assert "Hash chain intact" in apart.output  # the chain is not what differs
    assert "DAILY TOTALS DIFFER from the journal lines on 1 account day" in apart.output
    assert "606400 on 2026-01-05: debit +1.25, credit +0.00 (totals minus lines)" in apart.output
    rebuilt = invoke(app, "rebuild-totals")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Daily account totals rebuilt: 0 account days." in rebuilt.output
    assert invoke(app, "verify").exit_code == 0
