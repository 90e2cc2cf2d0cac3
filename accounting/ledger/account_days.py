"""Per-account daily totals of the books (``account_days``): Σ debit and Σ credit of the lines
of each account on each day, kept by the database itself as lines are inserted.

Why: the trial balance and the opening balances sum every line of the range per account. At
1 000 members (114 606 lines for nine months, issue 16) that was 30–45 ms of SQLite reading the
covering index (account, date, debit, credit) for each view of the trial balance, and a
sequential scan with a hash aggregate on PostgreSQL; the daily totals are 5 851 rows for the
same books (20 times fewer) and give the same sums, to the cent, for any date range.

How it stays exact: journal lines are only ever inserted (UPDATE and DELETE are refused by the
ORM and by triggers, see :mod:`accounting.ledger.models`), so a trigger ``AFTER INSERT ON
journal_lines`` that adds each new line to its (account, day) row keeps the table equal to the
sums, whatever path inserted the line (the ORM, Core multi-row inserts, ``executemany`` of the
bulk writers, raw SQL), in the same transaction: a rolled-back posting leaves no total behind.

- SQLite: a row trigger, an ``INSERT … ON CONFLICT DO UPDATE SET debit = debit + excluded.debit``
  per line (about 5 µs a line; SQLite has one writer at a time). A bulk writer inserting
  thousands of lines at once (a FEC import's 200 000) goes through :func:`summed_after`: the
  trigger is dropped and created again inside the writer's transaction around the insert,
  and the inserted lines are added to the totals in one grouped upsert — 1.2 s less for a
  1 000 000-line FEC's 200 000 lines (issue 15), the same totals.
- PostgreSQL: a statement trigger over the statement's new lines (a transition table), grouped
  by (account, day) and upserted in that order with the same atomic addition: two postings at
  once never lose an update — the second waits on the row the first holds until it commits,
  then adds to the committed value; taking the rows in sorted order within a statement keeps
  two concurrent statements from locking them in opposite orders.

:func:`drift` compares the table with the lines (``mutualise verify`` reports it; ``mutualise
rebuild-totals`` rebuilds the table from the lines: :func:`rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import DDL, Select, String, event, select, type_coerce
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounting.db import Base, Money
from accounting.invoicing.models import money_sum
from accounting.ledger.models import JournalLine
from accounting.money import ZERO


class AccountDay(Base):
    """The debits and credits of one account on one day (a sum of journal lines)."""

    __tablename__ = "account_days"

    account: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    debit: Mapped[Decimal] = mapped_column(default=ZERO)
    credit: Mapped[Decimal] = mapped_column(default=ZERO)

    # SQLite: the table is its primary key's b-tree, so a range's sums read one structure.
    __table_args__ = ({"sqlite_with_rowid": False},)


TRIGGER = "trg_journal_lines_account_days"
#: The statements that create the trigger (kept identical to migration 0019).
SQLITE_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER INSERT ON journal_lines "
    "BEGIN INSERT INTO account_days (account, day, debit, credit) "
    "VALUES (NEW.account, NEW.entry_date, NEW.debit, NEW.credit) "
    "ON CONFLICT (account, day) DO UPDATE SET debit = debit + excluded.debit, "
    "credit = credit + excluded.credit; END"
)
POSTGRESQL_TRIGGER = [
    """
CREATE OR REPLACE FUNCTION journal_lines_account_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_days (account, day, debit, credit)
    SELECT account, entry_date, SUM(debit), SUM(credit) FROM added_lines
    GROUP BY account, entry_date ORDER BY account, entry_date
  ON CONFLICT (account, day) DO UPDATE
    SET debit = account_days.debit + EXCLUDED.debit,
        credit = account_days.credit + EXCLUDED.credit;
  RETURN NULL;
END $$""",
    "DROP TRIGGER IF EXISTS trg_journal_lines_account_days ON journal_lines",
    "CREATE TRIGGER trg_journal_lines_account_days AFTER INSERT ON journal_lines "
    "REFERENCING NEW TABLE AS added_lines FOR EACH STATEMENT "
    "EXECUTE FUNCTION journal_lines_account_days()",
]
#: Fills the table from the lines already there (the migration; a repair).
FILL = (
    "INSERT INTO account_days (account, day, debit, credit) "
    "SELECT account, entry_date, SUM(debit), SUM(credit) FROM journal_lines "
    "GROUP BY account, entry_date"
)


#: Adds the lines of an id range to the totals (:func:`summed_after`), as the trigger would.
ADD_RANGE = (
    "INSERT INTO account_days (account, day, debit, credit) "
    "SELECT account, entry_date, SUM(debit), SUM(credit) FROM journal_lines "
    "WHERE id BETWEEN ? AND ? GROUP BY account, entry_date "
    "ON CONFLICT (account, day) DO UPDATE SET debit = debit + excluded.debit, "
    "credit = credit + excluded.credit"
)
#: Lines inserted at once from which :func:`summed_after` sums them itself.
BULK_LINES = 2_000


def summed_after(
    session: Session, ids: Sequence[int], insert: Callable[[], None]
) -> None:  # fmt: skip
    """Run ``insert``, which inserts the journal lines of ids ``ids`` (consecutive, ascending),
    keeping the daily totals: on SQLite, for many lines, without the row trigger — dropped
    first and created again after, all inside the caller's transaction (no other connection
    ever sees the table without it; SQLite has one writer at a time), the lines then summed
    into the totals by one grouped upsert. Why: the trigger's per-line program was half the
    time of inserting the lines (see the module docstring). PostgreSQL's statement trigger is
    set-based already: ``insert`` runs as it is there, as it does for a few lines.

    If ``insert`` raises, the trigger is back and the caller's transaction, which must be
    rolled back (its lines may be partly written), holds no total of them."""
    conn = session.connection()
    if conn.dialect.name != "sqlite" or len(ids) < BULK_LINES or not conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (TRIGGER,)
    ).first():  # fmt: skip
        insert()
        return
    if ids[-1] - ids[0] != len(ids) - 1:  # pragma: no cover - reserve_ids gives a range
        raise ValueError("summed_after: the lines' ids must be consecutive")
    conn.exec_driver_sql(f"DROP TRIGGER {TRIGGER}")
    try:
        insert()
    finally:
        conn.exec_driver_sql(SQLITE_TRIGGER)
    conn.exec_driver_sql(ADD_RANGE, (ids[0], ids[-1]))


def rebuild(session: Session) -> int:
    """Make the daily totals the sums of the lines again (after :func:`drift` found them apart:
    lines written with the trigger missing); returns the rows written. Postings wait meanwhile
    (PostgreSQL: the lines locked against inserts until commit; SQLite: one writer). Flushes,
    never commits."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE journal_lines IN SHARE MODE")
    conn.exec_driver_sql("DELETE FROM account_days")
    conn.exec_driver_sql(FILL)
    return int(conn.exec_driver_sql("SELECT COUNT(*) FROM account_days").scalar() or 0)


def trigger_statements(dialect: str) -> list[str]:
    """The statements that install the trigger on ``dialect`` (none on another database)."""
    if dialect == "postgresql":
        return POSTGRESQL_TRIGGER
    if dialect == "sqlite":
        return [SQLITE_TRIGGER]
    return []  # pragma: no cover - only the two supported databases


def _install_trigger(target: Any, connection: Any, **kw: Any) -> None:
    """After ``create_all`` (both tables exist then), the trigger that keeps the totals."""
    tables = kw.get("tables")
    if tables is not None and AccountDay.__table__ not in tables:
        return
    for statement in trigger_statements(connection.dialect.name):
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(Base.metadata, "after_create", _install_trigger)


def account_sums(start: date | None, end: date | None) -> Select[Any]:
    """(account, Σ debit, Σ credit) of the lines dated in [start, end] (either bound open),
    from the daily totals: the same figures as summing ``journal_lines``."""
    query = select(AccountDay.account, money_sum(AccountDay.debit).label("debit"),
                   money_sum(AccountDay.credit).label("credit")).group_by(AccountDay.account)
    if start is not None:
        query = query.where(AccountDay.day >= start)
    if end is not None:
        query = query.where(AccountDay.day <= end)
    return query


def account_nets(start: date | None, end: date | None) -> Select[Any]:
    """(account, Σ debit − Σ credit) of the lines dated in [start, end], as euros."""
    net = type_coerce(money_sum(AccountDay.debit) - money_sum(AccountDay.credit), Money())
    query = select(AccountDay.account, net).group_by(AccountDay.account)
    if start is not None:
        query = query.where(AccountDay.day >= start)
    if end is not None:
        query = query.where(AccountDay.day <= end)
    return query


def drift(session: Session) -> list[tuple[str, date, Decimal, Decimal]]:
    """(account, day, debit difference, credit difference) wherever the daily totals differ
    from the sums of the lines: empty when the table is exact."""
    lines = {
        (account, day): (debit, credit)
        for account, day, debit, credit in session.execute(
            select(JournalLine.account, JournalLine.entry_date, money_sum(JournalLine.debit),
                   money_sum(JournalLine.credit))
            .group_by(JournalLine.account, JournalLine.entry_date))
    }  # fmt: skip
    kept = {
        (account, day): (debit, credit)
        for account, day, debit, credit in session.execute(
            select(AccountDay.account, AccountDay.day, AccountDay.debit, AccountDay.credit))
    }  # fmt: skip
    out = []
    for key in sorted(lines.keys() | kept.keys()):
        debit, credit = lines.get(key, (ZERO, ZERO))
        kept_debit, kept_credit = kept.get(key, (ZERO, ZERO))
        if debit != kept_debit or credit != kept_credit:
            out.append((*key, kept_debit - debit, kept_credit - credit))
    return out
