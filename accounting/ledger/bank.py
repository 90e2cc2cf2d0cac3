"""Bank reconciliation (rapprochement bancaire): a bank statement against the bank journal.

Every movement of money is posted in BQ on 512 with its date: members' payments, salaries and
contributions, suppliers, bank fees, subsidies received (the posting scheme of the README).
A statement line (date, signed amount: money in positive) is matched to the unmatched 512
line of the same amount closest in date, within ``tolerance`` days (a transfer posted on the
day it was ordered reaches the statement a day or two later). What is left on either side is
what the accountant looks at: a bank fee not posted yet, a payment not recorded, a cheque not
cashed. Pure matching on plain values (:func:`match`); :func:`reconcile` reads the 512 lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.ledger.chart import BANK
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.money import ZERO


@dataclass(frozen=True, slots=True)
class BankMovement:
    """One movement: a statement line (``ref``: its line in the file) or a 512 line (``ref``:
    its entry reference); ``amount`` > 0 is money in."""

    day: date
    amount: Decimal
    label: str
    ref: str


@dataclass
class Reconciliation:
    matched: list[tuple[BankMovement, BankMovement]] = field(default_factory=list)
    statement_only: list[BankMovement] = field(default_factory=list)
    books_only: list[BankMovement] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return not self.statement_only and not self.books_only

    @property
    def difference(self) -> Decimal:
        """Statement minus books over the movements compared."""
        return (sum((m.amount for m in self.statement_only), ZERO)
                - sum((m.amount for m in self.books_only), ZERO))  # fmt: skip


def match(statement: list[BankMovement], books: list[BankMovement],
          tolerance: int = 5) -> Reconciliation:  # fmt: skip
    """Pair each statement line (in date order) with the unpaired book line of the same
    amount closest in date within ``tolerance`` days (ties: the earlier one)."""
    result = Reconciliation()
    free: dict[Decimal, list[BankMovement]] = {}
    for movement in sorted(books, key=lambda m: (m.day, m.ref)):
        free.setdefault(movement.amount, []).append(movement)
    for line in sorted(statement, key=lambda m: (m.day, m.ref)):
        candidates = free.get(line.amount, [])
        best = min(
            (m for m in candidates if abs((m.day - line.day).days) <= tolerance),
            key=lambda m: (abs((m.day - line.day).days), m.day), default=None,
        )  # fmt: skip
        if best is None:
            result.statement_only.append(line)
        else:
            candidates.remove(best)
            result.matched.append((line, best))
    result.books_only = sorted((m for left in free.values() for m in left),
                               key=lambda m: (m.day, m.ref))  # fmt: skip
    return result


def reconcile(session: Session, statement: list[BankMovement], *, tolerance: int = 5,
              account: str = BANK) -> Reconciliation:  # fmt: skip
    """Match ``statement`` against the bank account's lines from its first day to its last
    (± ``tolerance``)."""
    if not statement:
        return Reconciliation()
    start = min(m.day for m in statement) - timedelta(days=tolerance)
    end = max(m.day for m in statement) + timedelta(days=tolerance)
    rows = session.execute(
        select(JournalLine.entry_date, JournalLine.debit, JournalLine.credit, JournalLine.label,
               JournalEntry.journal_code, JournalEntry.year, JournalEntry.number)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == account, JournalLine.entry_date.between(start, end))
    )  # fmt: skip
    books = [BankMovement(day, debit - credit, label, f"{journal}{year}-{number:06d}")
             for day, debit, credit, label, journal, year, number in rows]  # fmt: skip
    found = match(statement, books, tolerance)
    # Book lines dated outside the statement's own span are not « missing » from it.
    first, last = min(m.day for m in statement), max(m.day for m in statement)
    found.books_only = [m for m in found.books_only if first <= m.day <= last]
    return found
