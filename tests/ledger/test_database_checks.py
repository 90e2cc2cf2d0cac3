"""The database itself refuses what the domain refuses: proved by going around the ORM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from accounting.db import utcnow
from accounting.ledger.chart import ensure_account, ensure_journal
from accounting.ledger.models import JournalEntry, JournalLine
from app.models import metadata
from tests.conftest import is_postgres

D = Decimal
DAY = date(2026, 1, 15)


def raw_entry(db: Session, number: int, amounts: list[tuple[str, str]]) -> int:
    """An entry and its lines inserted with Core statements: no ORM, no domain check."""
    ensure_journal(db, "OD")
    for account in ("512000", "401000"):
        ensure_account(db, account)
    conn = db.connection()
    entry_id = conn.execute(
        insert(JournalEntry.__table__).values(
            journal_code="OD", year=2026, number=number, entry_date=DAY, label="Brute",
            piece_ref="X", piece_date=DAY, source_type="manual", validated_by="test",
            validated_at=utcnow(),
        )
    ).inserted_primary_key[0]
    for position, (debit, credit) in enumerate(amounts, start=1):
        conn.execute(
            insert(JournalLine.__table__).values(
                entry_id=entry_id, position=position,
                account="512000" if position % 2 else "401000", label="Brute",
                debit=D(debit), credit=D(credit), entry_date=DAY,
            )
        )  # fmt: skip
    return entry_id


@pytest.mark.parametrize(
    ("debit", "credit"),
    [("-10.00", "0.00"), ("10.00", "10.00"), ("0.00", "0.00"), ("0.00", "-5.00")],
)
def test_a_line_must_have_one_positive_amount_on_one_side(db, debit, credit) -> None:
    with pytest.raises(IntegrityError), db.begin_nested():
        raw_entry(db, 1, [(debit, credit)])


def test_validated_entries_and_lines_refuse_sql_updates_and_deletes(db) -> None:
    raw_entry(db, 1, [("10.00", "0.00"), ("0.00", "10.00")])
    for statement in (
        "UPDATE journal_lines SET label = 'changé'",
        "UPDATE journal_entries SET label = 'changé'",
        "DELETE FROM journal_lines",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises((IntegrityError, DBAPIError)), db.begin_nested():
            db.connection().execute(text(statement))
    assert db.scalar(select(JournalLine.label).limit(1)) == "Brute"


def _require_postgres(database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("the deferred balance trigger exists on PostgreSQL only (SQLite: domain)")


def test_postgresql_refuses_an_unbalanced_entry_when_constraints_are_checked(
    db, database_url
) -> None:
    _require_postgres(database_url)
    with pytest.raises(IntegrityError, match="not balanced"), db.begin_nested():
        raw_entry(db, 1, [("10.00", "0.00"), ("0.00", "9.99")])
        db.connection().execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_postgresql_refuses_an_entry_without_lines(db, database_url) -> None:
    _require_postgres(database_url)
    with pytest.raises(IntegrityError, match="0 lines"), db.begin_nested():
        raw_entry(db, 1, [])
        db.connection().execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_postgresql_accepts_a_balanced_entry_written_line_by_line(db, database_url) -> None:
    _require_postgres(database_url)
    # Deferred: between the two inserts the entry is unbalanced, and that is fine.
    with db.begin_nested():
        raw_entry(db, 1, [("10.00", "0.00"), ("0.00", "4.00"), ("0.00", "6.00")])
        db.connection().execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_postgresql_checks_the_balance_at_a_real_commit(database_url, fresh_db_url) -> None:
    _require_postgres(database_url)
    engine = create_engine(fresh_db_url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
        with Session(engine) as session:
            raw_entry(session, 1, [("10.00", "0.00"), ("0.00", "10.00")])
            session.commit()
        with Session(engine) as session:
            raw_entry(session, 2, [("25.00", "0.00"), ("0.00", "20.00")])
            with pytest.raises(IntegrityError, match="not balanced"):
                session.commit()
        with Session(engine) as session:
            assert session.scalar(select(text("count(*)")).select_from(JournalEntry)) == 1
    finally:
        engine.dispose()
