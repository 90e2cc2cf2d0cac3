"""What a member sees of its year's cash (DESIGN §5b): its calls (and what it paid of them),
and per service the statement of the true-up — calls, actual share, difference — exact once
the year's allocation is approved, estimated before (the member's part of the calls applied to
the forecast's gap with the budget: actual so far + budget for the rest, minus the budget)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounting.budgets.actuals import budget_vs_actual
from accounting.budgets.calls import called_so_far
from accounting.budgets.trueup import TrueUpRefused, year_allocation, year_documents
from accounting.invoicing.amounts import InvoiceRole, InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.money import CENT, ZERO
from accounting.org import Service
from accounting.periods import Period, PeriodKind


@dataclass(frozen=True)
class StatementRow:
    service: str
    calls: Decimal
    #: The year's approved share (None while the year is not approved).
    actual: Decimal | None
    #: Owed (> 0) or to be credited (< 0): exact when ``actual`` is known, else estimated.
    expected: Decimal


@dataclass
class MemberYear:
    year: int
    calls: list[Invoice] = field(default_factory=list)
    true_ups: list[Invoice] = field(default_factory=list)
    rows: list[StatementRow] = field(default_factory=list)
    approved: bool = False

    @property
    def called(self) -> Decimal:
        """Σ of the calls, incl. tax (credit notes negative)."""
        return sum((-d.total_incl_tax if d.is_credit_note else d.total_incl_tax
                    for d in self.calls), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((d.amount_paid for d in self.calls), ZERO)

    @property
    def expected(self) -> Decimal:
        return sum((r.expected for r in self.rows), ZERO)


def member_year(session: Session, member_id: int, year: int, today: date) -> MemberYear:
    """The member's calls, true-ups and statement for fiscal year ``year``."""
    result = MemberYear(year)
    documents = session.scalars(
        select(Invoice).where(
            Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.role.in_((InvoiceRole.CALL.value, InvoiceRole.TRUE_UP.value)),
            Invoice.service_start >= date(year, 1, 1), Invoice.service_start <= date(year, 12, 31),
        ).order_by(Invoice.issue_date, Invoice.sequence).options(selectinload(Invoice.lines))
    ).all()  # fmt: skip
    calls_by_service: dict[int, Decimal] = {}
    for doc in documents:
        (result.calls if doc.is_call else result.true_ups).append(doc)
        if doc.is_call:
            for line in doc.lines:
                sign = -1 if doc.is_credit_note else 1
                calls_by_service[line.service_id] = (calls_by_service.get(line.service_id, ZERO)
                                                     + sign * line.amount_excl_tax)
    period = session.scalars(select(Period).where(
        Period.kind == PeriodKind.YEAR.value, Period.start == date(year, 1, 1))).first()
    try:
        if period is None:
            raise TrueUpRefused("")
        _, target = year_allocation(session, period)
    except TrueUpRefused:
        target = None
    if target is not None:
        result.approved = True
        documented = year_documents(session, year)
        services = {s for (m, s) in target if m == member_id} | set(calls_by_service)
        names = dict(session.execute(select(Service.id, Service.name)).all())
        for sid in sorted(services):
            actual = target.get((member_id, sid), ZERO)
            result.rows.append(StatementRow(
                names.get(sid, str(sid)), calls_by_service.get(sid, ZERO), actual,
                actual - documented.get((member_id, sid), ZERO)))  # fmt: skip
        return result
    called_by_service = called_so_far(session, year)
    for row in budget_vs_actual(session, year, today):
        mine = calls_by_service.get(row.service.id, ZERO)
        if not mine:
            continue
        called = sum(called_by_service.get(row.service.id, {}).values(), ZERO)
        ratio = mine / called if called else ZERO
        expected = (ratio * row.gap).quantize(CENT)
        result.rows.append(StatementRow(row.service.name, mine, None, expected))
    return result

