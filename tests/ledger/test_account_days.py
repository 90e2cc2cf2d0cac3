"""The per-account daily totals (``account_days``) stay equal to the sums of the journal lines
whatever posts them: invoices, payments with their lettering, credit notes (reversals), costs
changed and deleted (reversals), a year's cut-off with its reversal, raw SQL, a rollback (and
on PostgreSQL several postings at once: ``test_concurrency.py``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounting.costs import CostInput, CostKind, add_cost, delete_cost, update_cost
from accounting.ledger.account_days import AccountDay, drift
from accounting.ledger.catchup import post_missing
from accounting.ledger.cutoff import post_cutoff
from accounting.ledger.models import Journal, JournalEntry
from accounting.ledger.reports import trial_balance
from accounting.org import Service
from app.database import make_engine
from app.invoices.usecases import credit_invoice, pay
from app.migrate import upgrade
from tests.ledger.test_cutoff_calls import _approve_2026, called_year  # noqa: F401

D = Decimal
PAID_ON = date(2026, 3, 2)


def _days(db: Session, account: str) -> dict[date, tuple[Decimal, Decimal]]:
    rows = db.execute(select(AccountDay.day, AccountDay.debit, AccountDay.credit)
                      .where(AccountDay.account == account))
    return {day: (debit, credit) for day, debit, credit in rows}


def test_invoices_payments_credit_notes_and_costs_keep_the_totals(db, billing, issued) -> None:
    post_missing(db)
    a, b, c = issued
    pay(db, member=billing.members["A"], paid_on=PAID_ON, amount=D("4000.01"), invoices=[a],
        today=PAID_ON)
    pay(db, member=billing.members["B"], paid_on=PAID_ON, amount=D("3200.00"), invoices=[b],
        today=PAID_ON)
    credit_invoice(db, c, reason="Erreur de clé", issue_date=date(2026, 3, 3))
    service = db.scalars(select(Service)).first()
    cost = add_cost(db, CostInput(CostKind.COST, service.id, date(2026, 3, 10), D("120.00"),
                                  "606400", "Fournitures"))
    update_cost(db, cost, CostInput(CostKind.COST, service.id, date(2026, 3, 10), D("150.00"),
                                    "606400", "Fournitures"))
    delete_cost(db, cost)
    db.flush()

    assert drift(db) == []
    # The worked example by hand: A's invoice 3 333,34 + VAT 666,67 on 5/02, paid on 2/03; B
    # paid half; C's invoice 7 333,33 + 1 466,67 cancelled by its credit note on 3/03.
    assert _days(db, "411A") == {date(2026, 2, 5): (D("4000.01"), D("0.00")),
                                 PAID_ON: (D("0.00"), D("4000.01"))}  # fmt: skip
    assert _days(db, "411C") == {date(2026, 2, 5): (D("8800.00"), D("0.00")),
                                 date(2026, 3, 3): (D("0.00"), D("8800.00"))}  # fmt: skip
    assert _days(db, "512000")[PAID_ON] == (D("7200.01"), D("0.00"))
    # The cost: 120 posted, reversed and posted again at 150, then reversed: nothing left, the
    # movements all there.
    expense = _days(db, "606400")[date(2026, 3, 10)]
    assert expense == (D("270.00"), D("270.00"))
    balance = {row.account: (row.debit, row.credit) for row in
               trial_balance(db, date(2026, 1, 1), date(2026, 12, 31))}
    assert balance["411C"] == (D("8800.00"), D("8800.00"))
    assert balance["706000"] == (D("7333.33"), D("16000.00"))


def test_a_cut_off_and_its_reversal_keep_the_totals(db, called_year) -> None:  # noqa: F811
    _approve_2026(db)
    report = post_cutoff(db, 2026, user="comptable")
    db.flush()
    assert report.entries, "the cut-off posted its accruals"
    assert drift(db) == []
    # The accruals of 31/12/2026 are reversed on 1/01/2027: 4181 nets to zero over both days.
    accrued = {day: values for day, values in _days(db, "4181B").items()}
    assert accrued == {date(2026, 12, 31): (D("1600.00"), D("0.00")),
                       date(2027, 1, 1): (D("0.00"), D("1600.00"))}  # fmt: skip


def test_lines_inserted_by_raw_sql_are_counted_and_a_rollback_leaves_nothing(db) -> None:
    """The trigger, not the application, keeps the table: any insert path is counted."""
    db.execute(text("INSERT INTO accounts (number, label, active) VALUES "
                    "('512000', 'Banque', :t), ('758000', 'Produits divers', :t)"),
               {"t": True})
    db.merge(Journal(code="OD", label="Opérations diverses"))
    entry = JournalEntry(journal_code="OD", year=2026, number=1, entry_date=date(2026, 5, 4),
                         label="Essai", piece_ref="X", piece_date=date(2026, 5, 4),
                         source_type="manual")
    db.add(entry)
    db.flush()
    savepoint = db.begin_nested()
    db.execute(text(
        "INSERT INTO journal_lines (entry_id, position, account, label, debit, credit, "
        "entry_date) VALUES (:e, 1, '512000', 'a', :d, 0, :day), "
        "(:e, 2, '758000', 'b', 0, :d, :day)"),
        {"e": entry.id, "d": 1234 if db.bind.dialect.name == "sqlite" else D("12.34"),
         "day": date(2026, 5, 4)})  # fmt: skip
    assert _days(db, "512000") == {date(2026, 5, 4): (D("12.34"), D("0.00"))}
    savepoint.rollback()
    assert _days(db, "512000") == {}
    assert drift(db) == []


def test_the_migration_fills_the_totals_from_the_lines_already_there(fresh_db_url) -> None:
    """Books posted before migration 0019: their sums are in the table after the upgrade, and
    the next line is added to them by the trigger."""
    engine = make_engine(fresh_db_url)
    cents = fresh_db_url.startswith("sqlite")  # money as integer cents on SQLite

    def amount(value: str) -> object:
        return int(D(value) * 100) if cents else D(value)

    line = text("INSERT INTO journal_lines (entry_id, position, account, label, debit, credit, "
                "entry_date) VALUES (:e, :p, :a, 'x', :d, :c, :day)")
    try:
        with engine.connect() as conn:
            upgrade(connection=conn, revision="0018_pages16b")
            conn.execute(text("INSERT INTO accounts (number, label, active) VALUES "
                              "('512000', 'Banque', :t), ('758000', 'Divers', :t)"), {"t": True})
            days = ((1, date(2026, 5, 4)), (2, date(2026, 5, 4)), (3, date(2026, 6, 1)))
            for number, day in days:
                entry = conn.execute(text(
                    "INSERT INTO journal_entries (journal_code, year, number, entry_date, label, "
                    "piece_ref, piece_date, source_type, validated_at, validated_by) VALUES "
                    "('OD', 2026, :n, :day, 'e', 'p', :day, 'manual', :at, '') RETURNING id"),
                    {"n": number, "day": day, "at": datetime(2026, 6, 1)}).scalar_one()
                value = amount(f"{number}0.25")
                conn.execute(line, [{"e": entry, "p": 1, "a": "512000", "d": value, "c": 0,
                                     "day": day},
                                    {"e": entry, "p": 2, "a": "758000", "d": 0, "c": value,
                                     "day": day}])  # fmt: skip
            conn.commit()
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with Session(engine) as session:
            # 10,25 + 20,25 on 4 May, 30,25 on 1 June.
            assert _days(session, "512000") == {date(2026, 5, 4): (D("30.50"), D("0.00")),
                                                date(2026, 6, 1): (D("30.25"), D("0.00"))}
            assert _days(session, "758000")[date(2026, 5, 4)] == (D("0.00"), D("30.50"))
            entry_id = session.scalar(select(JournalEntry.id).where(JournalEntry.number == 3))
            session.execute(line, {"e": entry_id, "p": 3, "a": "512000", "d": amount("1.00"),
                                   "c": 0, "day": date(2026, 6, 1)})
            assert _days(session, "512000")[date(2026, 6, 1)] == (D("31.25"), D("0.00"))
            session.rollback()
            assert drift(session) == []
    finally:
        engine.dispose()


def test_costs_posted_in_bulk_are_summed_once_with_the_trigger_back_after(db) -> None:
    """A bulk posting of thousands of lines (a FEC import) sums its lines itself on SQLite,
    the row trigger dropped around the insert: the same totals, and the trigger is back for
    the next line."""
    from accounting.cost_bulk import add_costs
    from accounting.ledger.account_days import BULK_LINES

    service = Service(code="COMPTA", name="Comptabilité")
    db.add(service)
    db.flush()
    march, april = date(2026, 3, 10), date(2026, 4, 7)
    items = [(CostInput(CostKind.COST, service.id, march if i % 2 else april, D("10.05"),
                        "606400", f"Fourniture {i}"), None) for i in range(1200)]  # fmt: skip
    add_costs(db, items)
    db.flush()
    assert 2 * len(items) >= BULK_LINES  # 606400 against 401000: two lines a cost
    # 600 costs of 10,05 € on each day, each against the supplier.
    assert _days(db, "606400") == {march: (D("6030.00"), D("0.00")),
                                   april: (D("6030.00"), D("0.00"))}  # fmt: skip
    assert _days(db, "401000") == {march: (D("0.00"), D("6030.00")),
                                   april: (D("0.00"), D("6030.00"))}  # fmt: skip
    assert drift(db) == []
    add_cost(db, CostInput(CostKind.COST, service.id, march, D("0.95"), "606400", "Une de plus"))
    db.flush()
    assert _days(db, "606400")[march] == (D("6030.95"), D("0.00"))
    assert drift(db) == []


def test_a_bulk_insert_that_fails_leaves_the_trigger_in_place(db) -> None:
    from accounting.ledger.account_days import TRIGGER, summed_after

    def failing() -> None:
        raise RuntimeError("disque plein")

    try:
        summed_after(db, list(range(1, 5001)), failing)
    except RuntimeError as error:
        assert str(error) == "disque plein"
    else:  # pragma: no cover - the insert raised
        raise AssertionError("the insert's error was swallowed")
    if db.bind.dialect.name == "sqlite":
        found = db.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND name = :n"), {"n": TRIGGER}).scalars().all()  # fmt: skip
    else:
        found = db.execute(text("SELECT tgname FROM pg_trigger WHERE tgname = :n"),
                           {"n": TRIGGER}).scalars().all()  # fmt: skip
    assert found == [TRIGGER]
    test_lines_inserted_by_raw_sql_are_counted_and_a_rollback_leaves_nothing(db)
