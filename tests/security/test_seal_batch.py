"""Batch links (accounting.seal_batch): the canonical text built from inserted tuples is the
one verify makes of the row it reads back, byte for byte."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from accounting.ledger.models import JournalEntry, JournalLine
from accounting.seal import canonical
from accounting.seal_batch import RowText, batch_records

LINE_COLUMNS = ("id", "entry_id", "position", "account", "member_id", "service_id", "label",
                "debit", "credit", "entry_date")  # fmt: skip


def test_row_text_is_the_canonical_json_of_the_row(db: Session) -> None:
    dialect = db.get_bind().dialect
    text = RowText(JournalLine.__table__, LINE_COLUMNS, dialect)
    row = (7, 3, 1, "641100", None, 2, 'Salaire « juin » "net" \\ é\tü', Decimal("1234.5"),
           Decimal("0"), date(2026, 1, 31))  # fmt: skip
    # As read back: money with its two places, as text; the date as ISO text; None as null.
    expected = {"id": 7, "entry_id": 3, "position": 1, "account": "641100", "member_id": None,
                "service_id": 2, "label": 'Salaire « juin » "net" \\ é\tü', "debit": "1234.50",
                "credit": "0.00", "entry_date": "2026-01-31"}  # fmt: skip
    assert text(row) == canonical(expected)


def test_row_text_of_an_entry_with_its_timestamp(db: Session) -> None:
    names = tuple(column.name for column in JournalEntry.__table__.columns)
    text = RowText(JournalEntry.__table__, names, db.get_bind().dialect)
    values = {"id": 1, "journal_code": "PA", "year": 2026, "number": 12,
              "entry_date": date(2026, 3, 31), "label": "Paie 100%", "piece_ref": "P%s",
              "piece_date": date(2026, 3, 31), "source_type": "cost", "source_id": 9,
              "reverses_id": None, "validated_at": datetime(2026, 4, 1, 8, 30, tzinfo=UTC),
              "validated_by": "x@y.fr"}  # fmt: skip
    written = text(tuple(values[name] for name in names))
    assert written.startswith('{"entry_date":"2026-03-31","id":1,"journal_code":"PA",')
    assert '"label":"Paie 100%"' in written and '"piece_ref":"P%s"' in written
    assert '"validated_at":"2026-04-01T08:30:00' in written


def test_batch_records_refuses_what_is_not_a_batch() -> None:
    assert batch_records('{"records":[["1","ab"]],"table":"journal_entries"}') == (
        "journal_entries", [("1", "ab")]
    )
    for broken in ("", "[]", '{"records":[["1"]],"table":"t"}', '{"table":"t"}'):
        try:
            batch_records(broken)
        except ValueError:
            continue
        raise AssertionError(f"{broken!r} accepted")


def test_many_rows_give_each_row_text(db: Session) -> None:
    text = RowText(JournalLine.__table__, LINE_COLUMNS, db.get_bind().dialect)
    rows = [(1, 1, 1, "641100", None, 2, "a", Decimal("10"), Decimal("0"), date(2026, 1, 2)),
            (2, 1, 2, "421000", 4, None, "é", Decimal("0"), Decimal("10"), date(2026, 1, 2))]
    assert text.many(rows) == [text(row) for row in rows]
    assert text.many([]) == []



@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(cents=st.integers(-10**13, 10**13), places=st.sampled_from([0, 1, 2, 3]))
def test_an_amounts_text_is_its_value_with_two_places_as_read_back(
    db: Session, cents: int, places: int
) -> None:
    """Money is read back with its two places (1234.5 -> "1234.50", -0.00 -> "0.00"),
    whichever way the amount was written (1234.5, 1234.50, 1234.500, -0.00)."""
    text = RowText(JournalLine.__table__, LINE_COLUMNS, db.get_bind().dialect)
    value = Decimal(cents).scaleb(-2)
    shorter = value.quantize(Decimal(1).scaleb(-places))
    written = shorter if shorter == value else value  # 12.30 as 12.3 or 12.300; 12.34 as is
    whole, part = divmod(abs(cents), 100)
    expected = f'"debit":"{"-" if cents < 0 else ""}{whole}.{part:02d}"'
    for amount in (written, Decimal("-0.00") if not cents else written):
        row = (1, 1, 1, "641100", None, None, "a", amount, Decimal("0"), date(2026, 1, 2))
        assert expected in text(row), (amount, text(row))
        assert text.many([row]) == [text(row)]
