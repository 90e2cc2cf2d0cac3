"""Opening balances: the one rule shared by the FEC's opening entry, the general ledger and the
trial balance (on screen and in the ledger workbook).

French accounting closes the income statement at the end of each exercice: at the start of
exercice N only the balance-sheet accounts (classes 1 to 5) carry their balance over, and the
result of the previous exercices (classes 6 and 7) stands on the result carried forward — 110
« Report à nouveau » for a profit, 119 for a loss. Classes 6 and 7 open each exercice at zero.
For a range that starts inside exercice N, an account opens with that carried-forward balance
plus its movements (every class) from the exercice's first day to the day before the range:
those still belong to the same exercice.

Why one module: the FEC's « à-nouveaux » and the reports a treasurer checks against it must
never disagree; both read :func:`carried_forward`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, type_coerce
from sqlalchemy.orm import Session

from accounting.db import Money
from accounting.invoicing.models import money_sum
from accounting.ledger.account_days import AccountDay, account_nets
from accounting.ledger.chart import RETAINED_EARNINGS, pcg_label
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds, fiscal_year_of
from accounting.ledger.models import Account, JournalLine
from accounting.money import ZERO
from accounting.org import Member

#: Account of a debit result carried forward (« report à nouveau débiteur »).
RETAINED_LOSSES = "119000"

#: First digit of the income-statement accounts, closed into the result at each exercice end.
INCOME_STATEMENT_CLASSES = "67"


@dataclass(frozen=True, slots=True)
class CarriedBalance:
    """One balance carried into an exercice: an account (and member, on its 411) with its
    debit-minus-credit balance; the result of the previous exercices comes last."""

    account: str
    label: str
    member_code: str | None
    member_name: str | None
    balance: Decimal


def _net() -> Any:
    """Σ debit − Σ credit, read back as euros on both databases."""
    return type_coerce(money_sum(JournalLine.debit) - money_sum(JournalLine.credit), Money())


def result_account(result: Decimal) -> str:
    """Where a result of previous exercices is carried (``result``: debit minus credit of
    classes 6-7): 110 for a profit (a credit balance), 119 for a loss."""
    return RETAINED_EARNINGS if result < ZERO else RETAINED_LOSSES


def carried_forward(
    session: Session, exercice_start: date, account: str | None = None
) -> list[CarriedBalance]:
    """The balances carried into the exercice that starts on ``exercice_start``: every
    balance-sheet account (by account, then member code) with a non-zero balance before that
    day, then the result of the previous exercices on :func:`result_account` when not zero.
    With ``account``, only what lands on that account (read through its index, unless it is a
    result account: the result sums classes 6 and 7)."""
    query = (
        select(JournalLine.account, Account.label, JournalLine.member_id, Member.code,
               Member.name, _net())
        .join(Account, Account.number == JournalLine.account)
        .outerjoin(Member, Member.id == JournalLine.member_id)
        .where(JournalLine.entry_date < exercice_start)
        .group_by(JournalLine.account, Account.label, JournalLine.member_id, Member.code,
                  Member.name)
        .order_by(JournalLine.account, Member.code)
    )  # fmt: skip
    if account is not None:
        wanted = JournalLine.account == account
        if account in (RETAINED_EARNINGS, RETAINED_LOSSES):
            income = func.substr(JournalLine.account, 1, 1).in_(tuple(INCOME_STATEMENT_CLASSES))
            wanted = or_(wanted, income)
        query = query.where(wanted)
    rows = session.execute(query).all()
    result = ZERO
    carried: list[CarriedBalance] = []
    for number, label, _member_id, member_code, member_name, amount in rows:
        if number[:1] in INCOME_STATEMENT_CLASSES:
            result += amount
        elif amount:
            carried.append(CarriedBalance(number, label, member_code, member_name, amount))
    if result:
        number = result_account(result)
        carried.append(CarriedBalance(number, pcg_label(number[:3]), None, None, result))
    if account is not None:
        return [found for found in carried if found.account == account]
    return carried


def exercice_start(day: date, start_month: int) -> date:
    """The first day of the exercice ``day`` belongs to."""
    return fiscal_year_bounds(fiscal_year_of(day, start_month), start_month)[0]


def opening_balances(
    session: Session, start: date | None, *, account: str | None = None,
    start_month: int | None = None,
) -> dict[str, Decimal]:  # fmt: skip
    """Debit minus credit of every account (or of ``account`` only) at the opening of a range
    that starts on ``start``: carried into its exercice, plus the exercice's movements before
    ``start``; non-zero balances only (none without a start: the range is the whole books).
    ``start_month``: the carrier's when not given.

    The same figures as :func:`carried_forward` summed per account (a balance-sheet account's
    members add up to the account; the result is classes 6 and 7), read from the daily totals
    (:mod:`accounting.ledger.account_days`) instead of every line before ``start``."""
    if start is None:
        return {}
    if start_month is None:
        start_month = carrier_start_month(session)
    first_day = exercice_start(start, start_month)
    wanted = account if account not in (None, RETAINED_EARNINGS, RETAINED_LOSSES) else None
    balances: dict[str, Decimal] = {}
    result = ZERO
    for number, amount in session.execute(_nets(None, first_day, wanted)):
        if number[:1] in INCOME_STATEMENT_CLASSES:
            result += amount
        else:
            balances[number] = balances.get(number, ZERO) + amount
    if result:
        number = result_account(result)
        balances[number] = balances.get(number, ZERO) + result
    if first_day < start:
        for number, amount in session.execute(_nets(first_day, start, wanted)):
            balances[number] = balances.get(number, ZERO) + amount
    return {number: amount for number, amount in balances.items()
            if amount and (account is None or number == account)}


def _nets(first: date | None, before: date, account: str | None) -> Any:
    """Σ debit − Σ credit per account of the days in [first, before), of ``account`` only
    when given."""
    query = account_nets(first, before - timedelta(days=1))
    return query if account is None else query.where(AccountDay.account == account)


def opening_labels(session: Session, numbers: Iterable[str]) -> dict[str, str]:
    """The labels of accounts that may only have an opening balance: the chart's, or for a
    result account not in the chart, the PCG label the FEC's opening entry gives it."""
    wanted = set(numbers)
    found = dict(
        session.execute(select(Account.number, Account.label).where(Account.number.in_(wanted)))
        .tuples().all()
    )  # fmt: skip
    return {number: found.get(number) or pcg_label(number[:3]) for number in wanted}
