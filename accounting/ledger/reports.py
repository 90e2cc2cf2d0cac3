"""Reading the books: the journal, the general ledger with its running balance, the trial
balance — for a date range, in SQL (sums and windows in the database, pages of rows, streams
for the exports; never a query per row).

Invariant shown everywhere: over any date range the debits equal the credits, because every
entry balances and an entry has one date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, type_coerce
from sqlalchemy.orm import Session

from accounting.db import Money
from accounting.ledger.account_days import account_sums
from accounting.ledger.mapping import Mapper, mapper
from accounting.ledger.models import Account, Journal, JournalEntry, JournalLine
from accounting.ledger.opening import opening_balances, opening_labels
from accounting.money import ZERO
from accounting.org import Member

#: Rows of a page on screen.
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One journal line with what a reader needs beside it (entry, account, member)."""

    entry_id: int
    journal_code: str
    year: int
    number: int
    entry_date: date
    piece_ref: str
    entry_label: str
    account: str
    account_label: str
    member_code: str | None
    member_name: str | None
    label: str
    debit: Decimal
    credit: Decimal
    #: Running balance of the account (general ledger only), debit positive.
    balance: Decimal | None = None

    @property
    def reference(self) -> str:
        return f"{self.journal_code}{self.year}-{self.number:06d}"


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One account of the trial balance over a date range: its opening balance (the rule of
    :mod:`accounting.ledger.opening`), its movements in the range, its closing balance."""

    account: str
    label: str
    debit: Decimal
    credit: Decimal
    #: Debit minus credit at the opening of the range.
    opening: Decimal = ZERO

    @property
    def opening_debit(self) -> Decimal:
        return max(self.opening, ZERO)

    @property
    def opening_credit(self) -> Decimal:
        return max(-self.opening, ZERO)

    @property
    def balance(self) -> Decimal:
        """Closing balance, debit positive."""
        return self.opening + self.debit - self.credit

    @property
    def debit_balance(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def credit_balance(self) -> Decimal:
        return max(-self.balance, ZERO)


@dataclass(frozen=True, slots=True)
class BalanceTotals:
    """The total line of a trial balance: each pair of columns is equal when the books
    balance."""

    opening_debit: Decimal
    opening_credit: Decimal
    debit: Decimal
    credit: Decimal
    debit_balance: Decimal
    credit_balance: Decimal

    @property
    def balanced(self) -> bool:
        return (self.opening_debit == self.opening_credit and self.debit == self.credit
                and self.debit_balance == self.credit_balance)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    """An account of the general ledger's index (moved in the range, or opened with a
    balance — the result carried forward may not be in the chart yet)."""

    number: str
    label: str


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    page: int
    pages: int
    total: int


_COLUMNS = (
    JournalEntry.id, JournalEntry.journal_code, JournalEntry.year, JournalEntry.number,
    JournalLine.entry_date, JournalEntry.piece_ref, JournalEntry.label, JournalLine.account,
    Account.label, Member.code, Member.name, JournalLine.label, JournalLine.debit,
    JournalLine.credit,
)  # fmt: skip


def _lines(
    start: date | None, end: date | None, journal: str | None = None,
    account: str | None = None, member_id: int | None = None,
) -> Select[Any]:  # fmt: skip
    query = (
        select(*_COLUMNS)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.number == JournalLine.account)
        .outerjoin(Member, Member.id == JournalLine.member_id)
    )
    if start is not None:
        query = query.where(JournalLine.entry_date >= start)
    if end is not None:
        query = query.where(JournalLine.entry_date <= end)
    if journal:
        query = query.where(JournalEntry.journal_code == journal)
    if account:
        query = query.where(JournalLine.account == account)
    if member_id is not None:
        # A member sees the entries that name it (its invoices, credit notes, payments).
        named = select(JournalLine.entry_id).where(JournalLine.member_id == member_id)
        query = query.where(JournalLine.entry_id.in_(named))
    return query


def _page_of(session: Session, query: Select[Any], page: int, size: int) -> tuple[int, int, int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // size))
    page = min(max(page, 1), pages)
    return page, pages, total or 0


def _line_ids(
    start: date | None, end: date | None, journal: str | None, member_id: int | None,
) -> Select[Any]:  # fmt: skip
    """The ids of the journal's lines in the range, on ``journal_lines`` alone (the entry only
    for a journal filter): the lines' joins to their account and member are one-to-one, so
    counting and paging need not make them for every line. A journal is the entries' ids in
    it (``IN``: read from the entries' unique (journal, year, number) index, then their lines
    by ``ix_journal_lines_order``; the join made SQLite scan the year's lines, 0.2 s for one
    journal at 1 000 members, against 4 ms)."""
    query = select(JournalLine.id)
    if journal:
        query = query.where(JournalLine.entry_id.in_(
            select(JournalEntry.id).where(JournalEntry.journal_code == journal)))
    if start is not None:
        query = query.where(JournalLine.entry_date >= start)
    if end is not None:
        query = query.where(JournalLine.entry_date <= end)
    if member_id is not None:
        named = select(JournalLine.entry_id).where(JournalLine.member_id == member_id)
        query = query.where(JournalLine.entry_id.in_(named))
    return query


def journal_page(
    session: Session, start: date | None, end: date | None, *, journal: str | None = None,
    member_id: int | None = None, page: int = 1, size: int = PAGE_SIZE,
) -> Page:  # fmt: skip
    """Lines of the journal (all journals or one) in validation order, one page: the page's
    line ids are chosen on ``journal_lines`` alone, then only those lines are joined (at
    1 000 members joining and sorting every line of the year to show 50 cost most of the
    page, issue 16)."""
    ids = _line_ids(start, end, journal, member_id)
    page, pages, total = _page_of(session, ids, page, size)
    order = (JournalLine.entry_id, JournalLine.position)
    # SQLite's planner would pick the date index and sort every line of the range (0.3 s at
    # 1 000 members); a bound on entry_id (always true: ids are positive) makes it read the
    # page in order from ix_journal_lines_order, dates filtered in the index.
    in_order = ids.where(JournalLine.entry_id > 0)
    chosen = list(session.scalars(
        in_order.order_by(*order).limit(size).offset((page - 1) * size)))
    rows = session.execute(
        _lines(None, None).where(JournalLine.id.in_(chosen)).order_by(*order)
    ) if chosen else []
    return Page([LedgerRow(*row) for row in rows], page, pages, total)


def iter_journal(
    session: Session, start: date | None, end: date | None, *, batch: int = 20_000
) -> Iterator[LedgerRow]:
    """Every line of the range in validation order, streamed (exports)."""
    query = _lines(start, end).order_by(JournalEntry.id, JournalLine.position)
    for row in session.connection().execute(query.execution_options(yield_per=batch)):
        yield LedgerRow(*row)


def account_page(
    session: Session, account: str, start: date | None, end: date | None, *,
    page: int = 1, size: int = PAGE_SIZE,
) -> tuple[Decimal, Page]:  # fmt: skip
    """The general ledger of one account: its opening balance and one page of its lines by
    date, each with the running balance (a window sum in SQL, so page 50 costs no more than
    page 1). The opening balance follows :func:`accounting.ledger.opening.opening_balances`:
    classes 6 and 7 start from zero at the exercice's start."""
    opening = opening_balances(session, start, account=account).get(account, ZERO)
    order = (JournalLine.entry_date, JournalEntry.id, JournalLine.position)
    running = type_coerce(
        func.sum(JournalLine.debit - JournalLine.credit).over(order_by=order), Money()
    )
    query = _lines(start, end, account=account).add_columns(running.label("running"))
    page, pages, total = _page_of(session, query, page, size)
    rows = session.execute(query.order_by(*order).limit(size).offset((page - 1) * size))
    result = [
        LedgerRow(*values, balance=opening + running_value) for *values, running_value in rows
    ]
    return opening, Page(result, page, pages, total)


def iter_general_ledger(
    session: Session, start: date | None, end: date | None, *, batch: int = 20_000
) -> Iterator[LedgerRow]:
    """Every line of the range by account, then date and validation order (exports); the
    running balance is the caller's (it starts from
    :func:`accounting.ledger.opening.opening_balances`)."""
    query = _lines(start, end).order_by(
        JournalLine.account, JournalLine.entry_date, JournalEntry.id, JournalLine.position
    )
    for row in session.connection().execute(query.execution_options(yield_per=batch)):
        yield LedgerRow(*row)


def _movements(start: date | None, end: date | None) -> Select[Any]:
    """Debit and credit per account in the range, with the account's label: the sums are made
    on the daily totals (:mod:`accounting.ledger.account_days`: 5 851 rows against 114 606
    lines at 1 000 members, 5 ms against 30–45 ms on SQLite), and the labels joined to the
    few sums after."""
    moved = account_sums(start, end).subquery()
    return select(moved.c.account, Account.label, moved.c.debit, moved.c.credit).join(
        Account, Account.number == moved.c.account)


def trial_balance(session: Session, start: date | None, end: date | None) -> list[BalanceRow]:
    """Every account moved in the range or opened with a balance, by account number: its
    opening balance (:func:`accounting.ledger.opening.opening_balances`), its debit and credit
    in the range."""
    openings = opening_balances(session, start)
    rows = {
        account: BalanceRow(account, label, debit, credit, openings.get(account, ZERO))
        for account, label, debit, credit in session.execute(_movements(start, end))
    }
    missing = [account for account in openings if account not in rows]
    for account, label in opening_labels(session, missing).items():
        rows[account] = BalanceRow(account, label, ZERO, ZERO, openings[account])
    return _merged(rows, mapper(session))


def _merged(rows: dict[str, BalanceRow], canonical: Mapper) -> list[BalanceRow]:
    """One row per account of the carrier's chart: ``6064`` and ``606400`` (books posted
    before the mapping, or under an older rule) are one account (:mod:`.mapping`)."""
    merged: dict[str, BalanceRow] = {}
    for account in sorted(rows):
        row, target = rows[account], canonical(account)
        found = merged.get(target)
        if found is None:
            merged[target] = BalanceRow(target, row.label, row.debit, row.credit, row.opening)
        else:
            label = row.label if account == target else found.label
            merged[target] = BalanceRow(target, label, found.debit + row.debit,
                                        found.credit + row.credit, found.opening + row.opening)
    return [merged[account] for account in sorted(merged)]


def totals(rows: list[BalanceRow]) -> BalanceTotals:
    """The total line of a trial balance (opening, movements and closing balances: debit
    equals credit in each)."""

    def total(name: str) -> Decimal:
        return sum((getattr(row, name) for row in rows), ZERO)

    return BalanceTotals(
        total("opening_debit"), total("opening_credit"), total("debit"), total("credit"),
        total("debit_balance"), total("credit_balance"),
    )  # fmt: skip


def ledger_accounts(session: Session, start: date | None, end: date | None) -> list[LedgerAccount]:
    """The general ledger's index: the accounts with lines in the range or an opening
    balance, by number."""
    moved = select(JournalLine.account).distinct()
    if start is not None:
        moved = moved.where(JournalLine.entry_date >= start)
    if end is not None:
        moved = moved.where(JournalLine.entry_date <= end)
    labels = dict(
        session.execute(select(Account.number, Account.label).where(Account.number.in_(moved)))
        .tuples().all()
    )  # fmt: skip
    openings = opening_balances(session, start)
    labels.update(opening_labels(session, [number for number in openings if number not in labels]))
    return [LedgerAccount(number, labels[number]) for number in sorted(labels)]


def journals(session: Session) -> list[Journal]:
    return list(session.scalars(select(Journal).order_by(Journal.code)))


def date_span(session: Session) -> tuple[date | None, date | None]:
    """The first and last dates of the books."""
    first, last = session.execute(
        select(func.min(JournalEntry.entry_date), func.max(JournalEntry.entry_date))
    ).one()
    return first, last


def count_lines(session: Session) -> int:
    return session.scalar(select(func.count(JournalLine.id)).select_from(JournalLine)) or 0

