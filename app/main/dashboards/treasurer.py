"""The treasurer's board: a period's allocation per member and service, invoiced vs paid for
it, the overdue invoices, the runs waiting for approval."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from accounting.allocation.models import (
    AllocationLine,
    AllocationRun,
    AllocationRunService,
    RunStatus,
)
from accounting.budgets.actuals import ServiceYear, budget_vs_actual
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.models import Invoice, money_sum
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import Period
from app.main.dashboards.common import (
    LIST_LIMIT,
    TOP_MEMBERS,
    UNPAID,
    others_label,
    period_label,
    top_members,
)


@dataclass(frozen=True)
class MemberAmounts:
    code: str
    name: str
    #: Amount per service code.
    amounts: dict[str, Decimal]
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


@dataclass(frozen=True)
class Settlement:
    code: str
    name: str
    invoiced: Decimal
    paid: Decimal
    credited: Decimal
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def outstanding(self) -> Decimal:
        return self.invoiced - self.paid - self.credited


@dataclass(frozen=True)
class WaitingRun:
    id: int
    period_code: str
    period_label: str
    total: Decimal
    created_at: object


@dataclass
class TreasurerBoard:
    today: date
    #: The period shown (None: no allocation stored yet).
    period: Period | None
    #: "approved" when the allocation shown is approved, "stored" when it waits.
    allocation_status: str | None
    services: list[tuple[str, str]]
    allocation: list[MemberAmounts]
    settlements: list[Settlement]
    overdue: list[Invoice]
    overdue_count: int
    overdue_total: Decimal
    waiting_runs: list[WaitingRun]
    periods: list[tuple[str, str]] = field(default_factory=list)  # (code, label) to choose from
    #: The year's budget against actual per service (empty without a budget), DESIGN §5b.
    budget: list[ServiceYear] = field(default_factory=list)

    @property
    def allocation_total(self) -> Decimal:
        return sum((m.total for m in self.allocation), ZERO)

    def service_total(self, code: str) -> Decimal:
        return sum((m.amounts.get(code, ZERO) for m in self.allocation), ZERO)

    @property
    def invoiced(self) -> Decimal:
        return sum((s.invoiced for s in self.settlements), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((s.paid for s in self.settlements), ZERO)

    @property
    def credited(self) -> Decimal:
        return sum((s.credited for s in self.settlements), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return sum((s.outstanding for s in self.settlements), ZERO)


def _allocation_by_member(db: Session, run_ids: list[int]
                          ) -> tuple[list[tuple[str, str]], list[MemberAmounts]]:
    """The services, and the :data:`TOP_MEMBERS` heaviest members' amounts per service (by
    code) then the others merged into one row — what ``top_members`` keeps — aggregated by
    the database: only the top members' rows and one total per service are read, not the
    1 000 × 19 sums (issue 16). Ties in weight go to the lower member code."""
    if not run_ids:
        return [], []
    lines = AllocationLine.run_id.in_(run_ids)
    total = money_sum(AllocationLine.amount)
    per_service = db.execute(
        select(Service.code, Service.name, total, func.count())
        .join(Service, Service.id == AllocationLine.service_id)
        .where(lines).group_by(Service.code, Service.name).order_by(Service.code)
    ).all()
    counted = db.scalar(select(func.count(func.distinct(AllocationLine.member_id))).where(lines))
    heaviest = (
        select(AllocationLine.member_id).join(Member, Member.id == AllocationLine.member_id)
        .where(lines).group_by(AllocationLine.member_id, Member.code)
        .order_by(func.sum(AllocationLine.amount).desc(), Member.code)
    )
    if counted > TOP_MEMBERS + 1:
        heaviest = heaviest.limit(TOP_MEMBERS)
    members: dict[str, MemberAmounts] = {}
    kept_lines: dict[str, int] = defaultdict(int)
    for m_code, m_name, s_code, amount, count in db.execute(
        select(Member.code, Member.name, Service.code, total, func.count())
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(lines, AllocationLine.member_id.in_(heaviest.scalar_subquery()))
        .group_by(Member.code, Member.name, Service.code)
    ):
        members.setdefault(m_code, MemberAmounts(m_code, m_name, {})).amounts[s_code] = amount
        kept_lines[s_code] += count
    rows = sorted(members.values(), key=lambda m: m.code)
    if counted > len(rows):  # the others: each service's total less the top members' part
        rest = {code: amount - sum((m.amounts.get(code, ZERO) for m in rows), ZERO)
                for code, _, amount, count in per_service if count > kept_lines[code]}
        rows.append(MemberAmounts("", others_label(counted - len(rows)), rest,
                                  counted - len(rows)))
    return [(code, name) for code, name, _, _ in per_service], rows


def treasurer_board(db: Session, today: date, period_code: str | None = None) -> TreasurerBoard:
    """The allocation of a period (the one asked for, else the one of the latest run): the
    approved runs of that period, or while none is approved its latest stored run; what was
    invoiced for that period and paid, per member; the overdue invoices of every period and
    the runs awaiting approval."""
    choices = _run_periods(db)
    chosen = next((c for c in choices if c[0] == period_code), choices[0] if choices else None)
    period = db.get(Period, chosen[2]) if chosen else None

    status = None
    services: list[tuple[str, str]] = []
    allocation: list[MemberAmounts] = []
    settlements: list[Settlement] = []
    if period is not None:
        status, services, allocation = _period_allocation(db, period)
        settlements = _settlements(db, period)
    overdue, count, total = _overdue(db, today)
    return TreasurerBoard(
        today=today,
        period=period,
        allocation_status=status,
        services=services,
        allocation=allocation,
        settlements=settlements,
        overdue=overdue,
        overdue_count=int(count or 0),
        overdue_total=total or ZERO,
        waiting_runs=waiting_runs(db),
        periods=[(code, label) for code, label, _ in choices],
        budget=budget_vs_actual(db, today.year, today),
    )


def _run_periods(db: Session) -> list[tuple[str, str, int]]:
    """(code, label, id) of the periods with runs, the latest run first."""
    run_periods = db.execute(
        select(Period.id, Period.kind, Period.start, func.max(AllocationRun.created_at))
        .join(AllocationRun, AllocationRun.period_id == Period.id)
        .group_by(Period.id, Period.kind, Period.start)
        .order_by(func.max(AllocationRun.created_at).desc())
        .limit(24)
    ).all()
    return [
        (Period(kind=kind, start=start, end=start).code, period_label(kind, start), p_id)
        for p_id, kind, start, _ in run_periods
    ]


def _period_allocation(
    db: Session, period: Period
) -> tuple[str, list[tuple[str, str]], list[MemberAmounts]]:
    """The status shown, the services and the per-member amounts of the period's approved
    runs, or of its latest stored run while none is approved."""
    runs = db.execute(
        select(AllocationRun.id, AllocationRun.status)
        .where(AllocationRun.period_id == period.id)
        .order_by(AllocationRun.created_at.desc(), AllocationRun.id.desc())
    ).all()
    approved = [r.id for r in runs if r.status == RunStatus.APPROVED.value]
    run_ids = approved or [runs[0].id]
    status = RunStatus.APPROVED.value if approved else RunStatus.STORED.value
    services, allocation = _allocation_by_member(db, run_ids)
    return status, services, allocation


def _settlements(db: Session, period: Period) -> list[Settlement]:
    """Invoiced, paid and credited for the period, per member."""
    settled = db.execute(
        select(
            Member.code,
            Member.name,
            money_sum(Invoice.total_incl_tax),
            money_sum(Invoice.amount_paid),
            money_sum(Invoice.amount_credited),
        )
        .join(Member, Member.id == Invoice.member_id)
        .where(
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.period_id == period.id,
        )
        .group_by(Member.code, Member.name)
        .order_by(Member.code)
    ).all()
    return top_members(
        [Settlement(*row) for row in settled],
        lambda s: s.invoiced - s.paid - s.credited,
        lambda rest: Settlement(
            "", others_label(len(rest)), sum((r.invoiced for r in rest), ZERO),
            sum((r.paid for r in rest), ZERO), sum((r.credited for r in rest), ZERO),
            len(rest),
        ),
    )


def _overdue(db: Session, today: date) -> tuple[list[Invoice], int | None, Decimal | None]:
    """The first overdue invoices, and the count and amount left due of all of them."""
    overdue_filter = and_(
        Invoice.kind == InvoiceKind.INVOICE.value,
        Invoice.status.in_(UNPAID),
        Invoice.due_date < today,
    )
    overdue = list(
        db.scalars(
            select(Invoice).where(overdue_filter).order_by(Invoice.due_date, Invoice.number)
            .limit(LIST_LIMIT)
        )
    )
    count, total = db.execute(
        select(
            func.count(Invoice.id),
            money_sum(Invoice.total_incl_tax - Invoice.amount_paid - Invoice.amount_credited),
        ).where(overdue_filter)
    ).one()
    return overdue, count, total


def waiting_runs(db: Session, limit: int = LIST_LIMIT) -> list[WaitingRun]:
    """Stored runs that still cover a (period, service) with no approved run: the ones a
    treasurer has to look at. A stored run made obsolete by a later approval is left out."""
    mine = aliased(AllocationRunService)
    approved = aliased(AllocationRunService)
    still_open = exists(
        select(literal(1)).where(
            mine.run_id == AllocationRun.id,
            ~exists(
                select(literal(1)).where(
                    approved.period_id == mine.period_id,
                    approved.service_id == mine.service_id,
                    approved.approved.is_(True),
                )
            ),
        )
    )
    rows = db.execute(
        select(AllocationRun.id, Period.kind, Period.start, AllocationRun.total,
               AllocationRun.created_at)
        .join(Period, Period.id == AllocationRun.period_id)
        .where(AllocationRun.status == RunStatus.STORED.value, still_open)
        .order_by(AllocationRun.created_at.desc())
        .limit(limit)
    ).all()
    return [
        WaitingRun(run_id, Period(kind=kind, start=start, end=start).code,
                   period_label(kind, start), total, created)
        for run_id, kind, start, total, created in rows
    ]
