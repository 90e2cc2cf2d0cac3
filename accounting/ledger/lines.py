"""The lines of a journal entry: what a posting is made of (``LineSpec``), the pure check of
a balanced double entry (:func:`check_lines`), and the lock on a journal's numbering series.

Why a module of their own: both the one-entry door (:mod:`accounting.ledger.posting`) and the
many-entries one (:mod:`accounting.ledger.bulk_posting`) need them, and the second is used by
the first (invoices issued together), so they sit below both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from accounting.db import lock_counter_row
from accounting.ledger.errors import InvalidLine, UnbalancedEntry
from accounting.ledger.models import JournalSequence
from accounting.money import ZERO, is_cents


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line to post: an account and a debit or a credit (the other stays zero)."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    label: str = ""
    member_id: int | None = None
    service_id: int | None = None
    #: Label of the account if it has to be created.
    account_label: str | None = None


def signed_line(account: str, amount: Decimal, **fields: Any) -> LineSpec | None:
    """A debit for a positive ``amount``, a credit for a negative one, nothing for zero."""
    if amount == ZERO:
        return None
    if amount > ZERO:
        return LineSpec(account, debit=amount, **fields)
    return LineSpec(account, credit=-amount, **fields)


def check_lines(lines: Sequence[LineSpec]) -> None:
    """Refuse lines that are not a balanced double entry (pure: no database).

    Each line has two non-negative amounts in cents, exactly one of them positive; there are
    at least two lines; the debits equal the credits.
    """
    for position, line in enumerate(lines, start=1):
        for amount in (line.debit, line.credit):
            if amount is ZERO:  # the side a line leaves empty (LineSpec's default): valid
                continue
            if not isinstance(amount, Decimal) or not amount.is_finite() or not is_cents(amount):
                raise InvalidLine(f"Ligne {position} : montant illisible ({amount!r}).")
        if line.debit < ZERO or line.credit < ZERO:
            raise InvalidLine(f"Ligne {position} ({line.account}) : montant négatif.")
        if (line.debit > ZERO) == (line.credit > ZERO):
            raise InvalidLine(
                f"Ligne {position} ({line.account}) : un débit ou un crédit, l'un des deux "
                "exactement."
            )
    if len(lines) < 2:
        raise UnbalancedEntry("Une écriture a au moins deux lignes.")
    debit = sum((line.debit for line in lines), ZERO)
    credit = sum((line.credit for line in lines), ZERO)
    if debit != credit:
        raise UnbalancedEntry(
            f"Écriture déséquilibrée : débit {debit} €, crédit {credit} €, écart "
            f"{debit - credit} €."
        )


def lock_journal_series(session: Session, journal_code: str, year: int) -> JournalSequence:
    """The counter row of (journal, year), created if missing, locked until the transaction
    ends."""
    return lock_counter_row(session, JournalSequence, journal_code=journal_code, year=year)
