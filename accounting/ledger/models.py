"""Tables of the ledger: the chart of accounts, the journals, the journal entries and their
lines, the number series, and the rules that map a carrier's FEC onto the shared services.

Design overview (after django-hordak's ``models/core.py``):

* A ``JournalEntry`` is written by the application when a document becomes final (an invoice
  or credit note issued, a payment recorded, a cost recorded); it is *validated* at once: it
  gets the next number of its journal and year (a counter row locked ``FOR UPDATE``, so the
  series has no gap even when two people post at once) and never changes again. A correction is
  a new entry (``reverses_id`` points at the entry it cancels).
* A ``JournalLine`` has a debit and a credit, two non-negative amounts, exactly one of them
  positive (CHECK constraints). The entry's lines balance: checked by the domain before any
  insert (``UnbalancedEntry``) and, on PostgreSQL, by a ``DEFERRABLE INITIALLY DEFERRED``
  constraint trigger that sums the lines of each touched entry at commit.
* Immutability three times: the domain never updates, the ORM refuses at flush, and database
  triggers refuse ``UPDATE`` and ``DELETE`` of entries and lines (PostgreSQL and SQLite). A
  fourth, for whoever drops the triggers: each entry is sealed with its lines in the hash chain
  when it is posted (``accounting.seal``; ``mutualise verify`` names the entry changed).
* Lines carry the account number (a key into ``accounts``), the member of an auxiliary 411
  account, the service, and a copy of the entry's date (the general ledger reads an account by
  date through one index).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    DDL,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from accounting.db import Base, utcnow
from accounting.ledger.errors import EntryImmutable
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.seal import Sealable, register_sealable


class Journal(Base):
    """A journal: VT (sales), BQ (bank), HA (purchases), OD (miscellaneous)."""

    __tablename__ = "journals"
    __audited__ = True

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"<Journal {self.code}>"


class Account(Base):
    """An account of the chart (PCG numbering); its label is editable, its number is not once
    a line uses it."""

    __tablename__ = "accounts"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: « 411VH01 », « 706100 », « 44571 »: the first three characters are PCG digits.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    #: The member of an auxiliary customer account (411 + member code).
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"))
    active: Mapped[bool] = mapped_column(default=True)

    member: Mapped[Optional[Member]] = relationship()

    @property
    def account_class(self) -> str:
        """The PCG class, its first digit (1 capital ... 7 revenue)."""
        return self.number[:1]

    def __repr__(self) -> str:
        return f"<Account {self.number}>"


class JournalSequence(Base):
    """The counter of one number series (journal × fiscal year): the last number given."""

    __tablename__ = "journal_sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_code: Mapped[str] = mapped_column(ForeignKey("journals.code"))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("journal_code", "year"),
        CheckConstraint("last_number >= 0", name="last_number"),
    )


class JournalEntry(Base):
    """A validated journal entry (écriture): numbered in its journal and year, never changed."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_code: Mapped[str] = mapped_column(ForeignKey("journals.code"))
    #: Fiscal year (the calendar year of ``entry_date``) and the number in the journal's series.
    year: Mapped[int]
    number: Mapped[int]
    #: EcritureDate: the date of the operation (invoice date, payment date, cost date).
    entry_date: Mapped[date]
    #: EcritureLib.
    label: Mapped[str] = mapped_column(String(300))
    #: PieceRef and PieceDate: the document behind the entry.
    piece_ref: Mapped[str] = mapped_column(String(100))
    piece_date: Mapped[date]
    #: What the entry comes from: invoice, credit_note, payment, cost, subsidy (with its id).
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[Optional[int]]
    #: A correction cancels an earlier entry by reversing it.
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("journal_entries.id"))
    #: ValidDate, and who validated (an e-mail, « cli », « système »).
    validated_at: Mapped[datetime] = mapped_column(default=utcnow)
    validated_by: Mapped[str] = mapped_column(String(200), default="")

    journal: Mapped[Journal] = relationship()
    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.position"
    )

    __table_args__ = (
        UniqueConstraint("journal_code", "year", "number", name="uq_journal_entries_number"),
        CheckConstraint("number > 0", name="number_positive"),
        Index("ix_journal_entries_source", "source_type", "source_id"),
        Index("ix_journal_entries_date", "entry_date"),
        # is_live(): « is this entry reversed? », asked per document (migration 0015).
        # Partial: nearly every entry has none, and a whole index looked useless to SQLite's
        # statistics, which then scanned the table per document.
        Index("ix_journal_entries_reverses", "reverses_id",
              sqlite_where=text("reverses_id IS NOT NULL"),
              postgresql_where=text("reverses_id IS NOT NULL")),
    )

    @property
    def reference(self) -> str:
        """« VT2026-000012 »: journal, year and number (EcritureNum of the FEC)."""
        return entry_reference(self.journal_code, self.year, self.number)

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    def __repr__(self) -> str:
        return f"<JournalEntry {self.reference}>"


def entry_reference(journal_code: str, year: int, number: int) -> str:
    return f"{journal_code}{year}-{number:06d}"


class JournalLine(Base):
    """One line of an entry: an account, and either a debit or a credit."""

    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    position: Mapped[int]
    account: Mapped[str] = mapped_column(String(20), ForeignKey("accounts.number"))
    #: The member of a 411 line (CompAuxNum / CompAuxLib in the FEC).
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"))
    #: The service a revenue, cost or VAT line belongs to (analysis, member side).
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("services.id"))
    label: Mapped[str] = mapped_column(String(300))
    debit: Mapped[Decimal] = mapped_column(default=ZERO)
    credit: Mapped[Decimal] = mapped_column(default=ZERO)
    #: Copy of the entry's date: the general ledger reads an account by date on one index.
    entry_date: Mapped[date]

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    member: Mapped[Optional[Member]] = relationship()
    service: Mapped[Optional[Service]] = relationship()

    __table_args__ = (
        UniqueConstraint("entry_id", "position"),
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_positive"),
        CheckConstraint(
            "(debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0)", name="debit_xor_credit"
        ),
        # The general ledger by account and date; debit and credit make the trial balance's
        # sums read the index alone (migration 0015).
        Index("ix_journal_lines_account", "account", "entry_date", "debit", "credit"),
        # The journal in validation order, dates filtered in the index (reports.journal_page).
        Index("ix_journal_lines_order", "entry_id", "position", "entry_date"),
        Index("ix_journal_lines_member", "member_id", "entry_date"),
    )


class FecCostRule(Base):
    """How a line of the carrier's FEC becomes a cost of a service: accounts matching
    ``pattern`` (``64*``, ``6226``) or lines carrying an analytic code go to ``service_id``.

    Saved by the admin on the import screen and applied again next time; ``position`` orders
    them (the first rule that matches wins, analytic codes before account patterns).
    """

    __tablename__ = "fec_cost_rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``account`` (a pattern on CompteNum, ``*`` as a wildcard) or ``analytic`` (a code).
    kind: Mapped[str] = mapped_column(String(10), default="account")
    pattern: Mapped[str] = mapped_column(String(50))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    position: Mapped[int] = mapped_column(default=0)

    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("kind", "pattern"),
        CheckConstraint("kind IN ('account', 'analytic')", name="kind"),
    )


class AccountMapping(Base):
    """How an account of another chart becomes one of the carrier's (PCG): an ``exact``
    account (``60640000`` -> ``606400``) or every account under a ``prefix`` (``6064`` ->
    ``606400``). Saved by the admin, applied to every FEC import and every cost entered
    (:mod:`accounting.ledger.mapping`); the exact rule wins, then the longest prefix."""

    __tablename__ = "account_mappings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``exact`` or ``prefix``.
    kind: Mapped[str] = mapped_column(String(10), default="prefix")
    source: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("kind", "source"),
        CheckConstraint("kind IN ('exact', 'prefix')", name="kind"),
    )


class LineLetter(Base):
    """The lettering of a journal line (``EcritureLet`` and ``DateLet`` of the FEC): lines of
    one account whose amounts cancel out share a code. A line stays immutable; its letter is a
    row of its own, written when a payment settles an invoice (:mod:`accounting.ledger.
    lettering`)."""

    __tablename__ = "line_letters"

    line_id: Mapped[int] = mapped_column(ForeignKey("journal_lines.id"), primary_key=True)
    account: Mapped[str] = mapped_column(String(20))
    #: « A », « B » … « Z », « AA »: unique per account.
    code: Mapped[str] = mapped_column(String(10))
    lettered_on: Mapped[date]

    __table_args__ = (Index("ix_line_letters_account_code", "account", "code"),)


# ------------------------------------------------------------------ immutability in the ORM


def _refuse_change(mapper: Any, connection: Any, target: Any) -> None:
    raise EntryImmutable(
        "Une écriture validée ne se modifie ni ne se supprime : passez une écriture de "
        "correction (contrepassation)."
    )


for _model in (JournalEntry, JournalLine):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """``session.execute(update(JournalLine)…)`` would skip the checks above: refused."""
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_arguments.get("mapper")
    if entity is not None and entity.class_ in (JournalEntry, JournalLine):
        raise EntryImmutable(
            "Les écritures ne se modifient pas en masse : chaque écriture validée est "
            "définitive."
        )


# ------------------------------------------------------------------ the database's own checks

#: PostgreSQL: every entry touched in a transaction balances at commit (deferred constraint
#: triggers on both tables), and validated entries and lines refuse UPDATE and DELETE.
#: Kept identical to migration 0005.
POSTGRESQL_TRIGGERS = [
    """
CREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target integer;
  total_debit numeric;
  total_credit numeric;
  line_count integer;
BEGIN
  IF TG_TABLE_NAME = 'journal_entries' THEN
    target := NEW.id;
  ELSIF TG_OP = 'DELETE' THEN
    target := OLD.entry_id;
  ELSE
    target := NEW.entry_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM journal_entries WHERE id = target) THEN
    RETURN NULL;
  END IF;
  SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0), COUNT(*)
    INTO total_debit, total_credit, line_count
    FROM journal_lines WHERE entry_id = target;
  IF line_count < 2 OR total_debit <> total_credit THEN
    RAISE EXCEPTION 'journal entry % is not balanced: % lines, debit %, credit %',
      target, line_count, total_debit, total_credit
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE OR REPLACE FUNCTION journal_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% of a validated journal entry refused: post a correcting entry', TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$""",
    "DROP TRIGGER IF EXISTS trg_journal_lines_balanced ON journal_lines",
    "CREATE CONSTRAINT TRIGGER trg_journal_lines_balanced AFTER INSERT OR UPDATE OR DELETE "
    "ON journal_lines DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "EXECUTE FUNCTION journal_entry_balanced()",
    "DROP TRIGGER IF EXISTS trg_journal_entries_balanced ON journal_entries",
    "CREATE CONSTRAINT TRIGGER trg_journal_entries_balanced AFTER INSERT ON journal_entries "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()",
    "DROP TRIGGER IF EXISTS trg_journal_entries_immutable ON journal_entries",
    "CREATE TRIGGER trg_journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries "
    "FOR EACH ROW EXECUTE FUNCTION journal_immutable()",
    "DROP TRIGGER IF EXISTS trg_journal_lines_immutable ON journal_lines",
    "CREATE TRIGGER trg_journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines "
    "FOR EACH ROW EXECUTE FUNCTION journal_immutable()",
]

#: SQLite has no deferred triggers (the domain checks the balance); it refuses changes.
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{verb} of a validated journal entry refused'); END"
    for table in ("journal_entries", "journal_lines")
    for verb in ("UPDATE", "DELETE")
]


def _install_triggers(target: Any, connection: Any, **kw: Any) -> None:
    """After ``create_all`` made journal_lines, add the triggers of both tables."""
    if connection.dialect.name == "postgresql":
        statements = POSTGRESQL_TRIGGERS
    elif connection.dialect.name == "sqlite":
        statements = SQLITE_TRIGGERS
    else:  # pragma: no cover - only the two supported databases
        return
    for statement in statements:
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(JournalLine.__table__, "after_create", _install_triggers)


#: Every entry is sealed with its lines when it is posted (accounting.ledger.posting), in the
#: same transaction; none may exist without its seal (``mutualise seal-backfill`` seals those
#: posted before sealing existed).
register_sealable(
    Sealable(
        JournalEntry.__tablename__,
        children=((JournalLine.__tablename__, "entry_id"),),
        must_be_sealed=lambda t: t.c.id.is_not(None),
        label=lambda row: entry_reference(row["journal_code"], row["year"], row["number"]),
    )
)
