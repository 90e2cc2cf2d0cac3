"""The hash chain: sealing, and verify naming the first record altered behind the app's back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounting.db import utcnow
from accounting.periods import Period, PeriodStatus, get_or_create_period
from accounting.seal import (
    GENESIS,
    Seal,
    SealError,
    canonical,
    link_hash,
    seal_record,
    sha256,
    verify_chain,
)
from tests.security.owner import without_seal_triggers


def _close(db: Session, code: str) -> Period:
    period = get_or_create_period(db, code)
    period.status = PeriodStatus.CLOSED.value
    period.closed_at = utcnow()
    db.flush()
    seal_record(db, "periods", period.id, "close")
    return period


def test_each_link_covers_the_content_and_the_previous_hash(db: Session) -> None:
    january = _close(db, "2026-01")
    _close(db, "2026-02")
    first, second = db.scalars(select(Seal).order_by(Seal.seq)).all()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert first.label == "2026-01"
    assert first.content_hash == sha256(first.content)
    assert first.hash == link_hash(
        1, GENESIS, "periods", str(january.id), "close", first.sealed_at, first.content_hash
    )
    sealed_row = __import__("json").loads(first.content)["row"]
    assert sealed_row["start"] == "2026-01-01"
    assert sealed_row["end"] == "2026-01-31"
    assert sealed_row["status"] == "closed"
    assert canonical({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'


def test_an_untouched_chain_verifies(db: Session) -> None:
    _close(db, "2026-01")
    _close(db, "2026-T1")
    report = verify_chain(db)
    assert report.ok, report.problems
    assert (report.seals, report.records) == (2, 2)
    assert report.head == db.scalars(select(Seal.hash).order_by(Seal.seq.desc())).first()


def test_verify_names_the_first_record_altered_with_sql(db: Session) -> None:
    _close(db, "2026-01")
    february = _close(db, "2026-02")
    march = _close(db, "2026-03")
    db.execute(
        text('UPDATE periods SET "end" = :day WHERE id = :id'),
        {"day": date(2026, 2, 27), "id": february.id},
    )
    db.execute(text("UPDATE periods SET status = 'open' WHERE id = :id"), {"id": march.id})
    report = verify_chain(db)
    assert not report.ok
    first = report.first
    assert first is not None
    assert (first.seq, first.object_type, first.label) == (2, "periods", "2026-02")
    assert "row.end" in first.message and "2026-02-28" in first.message
    assert [p.seq for p in report.problems] == [2, 3]
    assert "seal #2: periods 2026-02" in str(first)


def test_a_deleted_record_and_a_removed_link_are_reported(db: Session) -> None:
    january = _close(db, "2026-01")
    _close(db, "2026-02")
    _close(db, "2026-03")
    with without_seal_triggers(db):
        db.execute(text("DELETE FROM seals WHERE seq = 2"))
    db.execute(text("DELETE FROM periods WHERE id = :id"), {"id": january.id})
    report = verify_chain(db)
    messages = [(p.seq, p.message) for p in report.problems]
    assert (1, "record deleted") in messages
    assert any(seq == 3 and "a link was removed" in m for seq, m in messages)
    assert any(seq == 3 and "previous hash" in m for seq, m in messages)


def test_a_rewritten_seal_is_reported(db: Session) -> None:
    _close(db, "2026-01")
    with without_seal_triggers(db):
        db.execute(text("UPDATE seals SET content = replace(content, '2026-01-31', '2026-01-30')"))
    report = verify_chain(db)
    assert report.first is not None and report.first.seq == 1
    assert "seal itself was altered" in report.first.message


def test_a_closed_period_without_seal_is_reported(db: Session) -> None:
    _close(db, "2026-01")
    db.execute(
        text(
            "INSERT INTO periods (kind, start, \"end\", status) "
            "VALUES ('month', :s, :e, 'closed')"
        ),
        {"s": date(2026, 5, 1), "e": date(2026, 5, 31)},
    )
    report = verify_chain(db)
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.seq, problem.label) == (None, "2026-05")
    assert "has no seal" in problem.message


def test_reopening_appends_a_link_and_the_chain_stays_valid(db: Session) -> None:
    period = _close(db, "2026-01")
    period.status = PeriodStatus.OPEN.value
    period.closed_at = None
    db.flush()
    seal_record(db, "periods", period.id, "reopen")
    report = verify_chain(db)
    assert report.ok, report.problems
    assert [s.action for s in db.scalars(select(Seal).order_by(Seal.seq))] == ["close", "reopen"]


def test_sealing_an_unknown_kind_or_a_missing_row_is_refused(db: Session) -> None:
    with pytest.raises(SealError):
        seal_record(db, "members", 1, "close")
    with pytest.raises(SealError, match="introuvable"):
        seal_record(db, "periods", 999_999, "close")


def test_a_rollback_removes_the_link_with_the_act(db: Session) -> None:
    nested = db.begin_nested()
    _close(db, "2026-01")
    nested.rollback()
    assert db.scalars(select(Seal)).all() == []
    assert verify_chain(db).ok


@pytest.mark.parametrize(
    "statement",
    ["UPDATE seals SET label = 'changé'", "DELETE FROM seals", "DELETE FROM seals WHERE seq = 1"],
)
def test_the_database_refuses_to_change_or_remove_a_seal(db: Session, statement: str) -> None:
    """Issue 13: plain UPDATE and DELETE on seals succeeded on PostgreSQL."""
    _close(db, "2026-01")
    savepoint = db.begin_nested()
    with pytest.raises(Exception, match="refused"):
        db.execute(text(statement))
    savepoint.rollback()
    assert [s.label for s in db.scalars(select(Seal))] == ["2026-01"]
