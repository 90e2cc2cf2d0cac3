"""Lettering (lettrage) of the members' 411 accounts: an invoice and the payments and credit
notes that settle it share a letter code and a date — ``EcritureLet`` and ``DateLet`` of the
FEC.

Design: a payment allocated to invoices, and a credit note citing its invoice, link documents;
the documents linked together (a connected group: one payment for two invoices, two payments
for one invoice, an invoice and its credit note) are lettered as one when the 411 lines of
their live entries cancel out (debits = credits). A group that does not cancel out — an
invoice half paid, a payment partly kept as a credit on account — stays unlettered: the
**unlettered balance** of a member's 411 is exactly what it still owes (or is owed), which is
what the outstanding list shows (:func:`unlettered_balances`).

Invariants: a line is lettered at most once (``LineLetter.line_id`` is its key) and never
unlettered by the application; codes run A, B … Z, AA, AB … per account, in the order the
groups are lettered; ``DateLet`` is the date of the group's last line (the day it was
settled). Entry lines themselves never change: the letter is a row of its own. A constant
number of queries whatever the number of members (everything is read in bulk).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select, type_coerce
from sqlalchemy.orm import Session

from accounting.db import Money
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation, money_sum
from accounting.ledger.models import JournalEntry, JournalLine, LineLetter
from accounting.ledger.posting import is_live
from accounting.money import ZERO

#: The entries whose 411 lines are lettered.
SOURCES = ("invoice", "credit_note", "payment")


def letter_code(index: int) -> str:
    """0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``, 701 -> ``ZZ``, 702 -> ``AAA``."""
    code = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        code = chr(65 + rest) + code
    return code


class _Groups:
    """Union-find over (kind, id) nodes: documents linked by payments and credit notes."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, node: tuple[str, int]) -> tuple[str, int]:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grand = self.parent[parent]
            self.parent[node] = grand
            node, parent = parent, grand
        return node

    def join(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        self.parent[self.find(a)] = self.find(b)


def letter_accounts(session: Session, member_ids: Iterable[int] | None = None) -> int:
    """Letter every group of settled documents of these members (all when None) whose 411
    lines cancel out; returns how many lines were lettered. Flushes, never commits."""
    wanted = None if member_ids is None else set(member_ids)
    groups = _Groups()
    payments = select(PaymentAllocation.payment_id, PaymentAllocation.invoice_id).join(
        Payment, Payment.id == PaymentAllocation.payment_id
    )
    notes = select(Invoice.id, Invoice.original_id).where(Invoice.original_id.is_not(None))
    if wanted is not None:
        payments = payments.where(Payment.member_id.in_(wanted))
        notes = notes.where(Invoice.member_id.in_(wanted))
    for payment_id, invoice_id in session.execute(payments):
        groups.join(("payment", payment_id), ("document", invoice_id))
    for note_id, original_id in session.execute(notes):
        groups.join(("document", note_id), ("document", original_id))

    lines = (
        select(JournalLine.id, JournalLine.account, JournalLine.debit, JournalLine.credit,
               JournalLine.entry_date, JournalEntry.source_type, JournalEntry.source_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .outerjoin(LineLetter, LineLetter.line_id == JournalLine.id)
        .where(JournalEntry.source_type.in_(SOURCES), JournalLine.member_id.is_not(None),
               JournalLine.account.like("411%"), LineLetter.line_id.is_(None), is_live())
    )  # fmt: skip
    if wanted is not None:
        lines = lines.where(JournalLine.member_id.in_(wanted))
    pending: dict[tuple[str, int], list[tuple[int, str, Decimal, date]]] = defaultdict(list)
    for line_id, account, debit, credit, day, source, source_id in session.execute(lines):
        node = ("payment" if source == "payment" else "document", source_id)
        pending[groups.find(node)].append((line_id, account, debit - credit, day))
    return _write_letters(session, pending)


def _write_letters(
    session: Session, pending: dict[tuple[str, int], list[tuple[int, str, Decimal, date]]]
) -> int:
    """Give the next code of its account to each group whose lines cancel out."""
    ready = [
        found for found in pending.values()
        if len(found) > 1 and len({account for _, account, _, _ in found}) == 1
        and sum((net for _, _, net, _ in found), ZERO) == ZERO
    ]  # fmt: skip
    if not ready:
        return 0
    accounts = {found[0][1] for found in ready}
    used = dict(
        session.execute(
            select(LineLetter.account, func.count(func.distinct(LineLetter.code)))
            .where(LineLetter.account.in_(accounts))
            .group_by(LineLetter.account)
        ).tuples().all()
    )  # fmt: skip
    rows = []
    for found in sorted(ready, key=lambda group: (max(d for *_, d in group), group[0][0])):
        account = found[0][1]
        code = letter_code(used.get(account, 0))
        used[account] = used.get(account, 0) + 1
        day = max(d for *_, d in found)
        rows += [{"line_id": line_id, "account": account, "code": code, "lettered_on": day}
                 for line_id, *_ in found]  # fmt: skip
    session.execute(insert(LineLetter), rows)
    session.flush()
    return len(rows)


def unlettered_balances(session: Session) -> dict[int, Decimal]:
    """Debit minus credit of each member's unlettered 411 lines: what it still owes (> 0) or
    is owed (< 0); members whose lines are all lettered are left out."""
    net = type_coerce(money_sum(JournalLine.debit) - money_sum(JournalLine.credit), Money())
    rows = session.execute(
        select(JournalLine.member_id, net)
        .outerjoin(LineLetter, LineLetter.line_id == JournalLine.id)
        .where(JournalLine.member_id.is_not(None), JournalLine.account.like("411%"),
               LineLetter.line_id.is_(None))
        .group_by(JournalLine.member_id)
    )  # fmt: skip
    return {member_id: amount for member_id, amount in rows if amount}
