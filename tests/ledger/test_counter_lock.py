"""The counter row of a number series (accounting.db.lock_counter_row), on either database."""

from __future__ import annotations

from sqlalchemy import func, select

from accounting.db import lock_counter_row
from accounting.ledger.chart import ensure_journal
from accounting.ledger.models import JournalSequence


def test_the_counter_row_is_created_once_and_keeps_its_number(db):
    ensure_journal(db, "VT")
    first = lock_counter_row(db, JournalSequence, journal_code="VT", year=2026)
    assert (first.journal_code, first.year, first.last_number) == ("VT", 2026, 0)
    first.last_number = 7
    db.flush()
    again = lock_counter_row(db, JournalSequence, journal_code="VT", year=2026)
    assert again is first and again.last_number == 7
    other = lock_counter_row(db, JournalSequence, journal_code="VT", year=2027)
    assert other.last_number == 0
    count = db.scalar(select(func.count()).select_from(JournalSequence))
    assert count == 2
