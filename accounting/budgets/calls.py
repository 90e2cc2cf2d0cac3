"""Calls for funds (DESIGN §5b): on the year's schedule, each call is the budget's net pool for
the period (after a revision: as the schedule's catch-up mode says) split across the members by
the call key, issued as invoices on account (« Appel de fonds ») in the carrier's series and
posted debit 411 / credit 4191 (see ``models.ADVANCES_ACCOUNT`` and ARCHITECTURE.md).

Per (member, service) a call's line is that member's share of the service's pool for the
period; a member with several services gets one document. Flushes, never commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.keys import Key, describe_key_fr, parse_key
from accounting.allocation.models import AllocationKey, approved_lines
from accounting.budgets.budgets import current_budgets, schedule_of
from accounting.budgets.documents import Drafting, draft_documents, issue_documents, plan_kind
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import ADVANCES_ACCOUNT, Budget, CallSchedule, CatchUp, Frequency
from accounting.budgets.plan import CallMember, CallPlan, call_pools, call_shares
from accounting.invoicing.amounts import InvoiceKind, InvoiceRole, InvoiceStatus, format_eur
from accounting.invoicing.models import Invoice, InvoiceLine, money_sum
from accounting.invoicing.parties import get_carrier
from accounting.money import ZERO
from accounting.org import Member, MemberFigures, Service
from accounting.periods import Period, PeriodKind, get_or_create_period, parse_period_code


def schedule_codes(schedule: CallSchedule) -> list[str]:
    """The period codes of the year's calls: 2025-T1…T4 or 2025-01…12."""
    if schedule.frequency == Frequency.MONTHLY:
        return [f"{schedule.year}-{m:02d}" for m in range(1, 13)]
    return [f"{schedule.year}-T{q}" for q in range(1, 5)]


def call_rows(session: Session, year: int) -> list[tuple[int, int, date, Decimal]]:
    """(member id, service id, call period's first day, Σ excl. tax signed: credit notes
    negative) of ``year``'s issued calls."""
    sign = {InvoiceKind.INVOICE.value: 1, InvoiceKind.CREDIT_NOTE.value: -1}
    rows = session.execute(
        select(Invoice.member_id, InvoiceLine.service_id, Period.start, Invoice.kind,
               money_sum(InvoiceLine.amount_excl_tax))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Period, Period.id == Invoice.period_id)
        .where(Invoice.role == InvoiceRole.CALL.value,
               Invoice.status != InvoiceStatus.DRAFT.value,
               Invoice.service_start >= date(year, 1, 1),
               Invoice.service_start <= date(year, 12, 31))
        .group_by(Invoice.member_id, InvoiceLine.service_id, Period.start, Invoice.kind)
    )  # fmt: skip
    return [(m, s, start, sign[kind] * total) for m, s, start, kind, total in rows]


def called_so_far(session: Session, year: int) -> dict[int, dict[date, Decimal]]:
    """service id → call period's first day → the pools called (what the call key shared,
    the carrier's own share included: it is never invoiced, as in any allocation), read from
    the calls' annex, one pool per batch (a call, a catch-up)."""
    rows = session.execute(
        select(InvoiceLine.service_id, Period.start, InvoiceLine.basis)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Period, Period.id == Invoice.period_id)
        .where(Invoice.role == InvoiceRole.CALL.value,
               Invoice.status != InvoiceStatus.DRAFT.value,
               Invoice.service_start >= date(year, 1, 1),
               Invoice.service_start <= date(year, 12, 31))
    )  # fmt: skip
    result: dict[int, dict[date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    seen: set[tuple[int, str]] = set()
    for service_id, start, basis in rows:
        call = (basis or {}).get("call", {})
        batch = (service_id, str(call.get("batch") or start))
        if batch in seen:
            continue
        seen.add(batch)
        result[service_id][start] += Decimal(call.get("pool", "0"))
    return result


def calls_by_pair(session: Session, year: int) -> dict[tuple[int, int], Decimal]:
    """(member id, service id) → Σ called in ``year``."""
    result: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for member_id, service_id, _, amount in call_rows(session, year):
        result[(member_id, service_id)] += amount
    return dict(result)


def last_year_amounts(session: Session, year: int) -> dict[tuple[int, int], Decimal]:
    """(member id, service id) → its approved allocation of fiscal year ``year`` (the year
    period's run when there is one, else the runs of the periods inside the year)."""
    rows = session.execute(
        approved_lines().where(Period.start >= date(year, 1, 1), Period.end <= date(year, 12, 31))
    )
    by_kind: dict[str, dict[tuple[int, int], Decimal]] = defaultdict(
        lambda: defaultdict(lambda: ZERO))
    for member_id, service_id, amount, kind in rows:
        by_kind[kind][(member_id, service_id)] += amount
    for kind in (PeriodKind.YEAR, PeriodKind.QUARTER, PeriodKind.MONTH):
        if by_kind.get(kind.value):
            return dict(by_kind[kind.value])
    return {}


@dataclass
class ServiceCall:
    """One service's part of a call: the budget, the plan, the pool and each member's share."""

    service: Service
    budget: Budget
    plan: CallPlan
    pool: Decimal
    key: Key
    shares: dict[int, Decimal] = field(default_factory=dict)


def _call_key(session: Session, budget: Budget, day: date) -> Key:
    if budget.call_key:
        return parse_key(budget.call_key)
    key = session.scalars(
        select(AllocationKey).where(AllocationKey.service_id == budget.service_id,
                                    AllocationKey.valid_from <= day)
        .order_by(AllocationKey.valid_from.desc()).limit(1)
    ).first()  # fmt: skip
    if key is None:
        raise BudgetError(
            f"{budget.service.name} : aucune clé en vigueur au {day:%d/%m/%Y} ni clé d'appel "
            "dans le budget."
        )
    return parse_key(key.text)


def _members(session: Session, period: Period, year: int) -> list[tuple[Member, int, tuple]]:
    figures = {m: (r, h) for m, r, h in session.execute(
        select(MemberFigures.member_id, MemberFigures.revenue, MemberFigures.headcount)
        .where(MemberFigures.year == year))}
    result = []
    for member in session.scalars(select(Member).order_by(Member.code)):
        first = max(period.start, member.joined_on)
        last = min(period.end, member.left_on) if member.left_on else period.end
        days = max(0, (last - first).days + 1)
        result.append((member, days, figures.get(member.id, (None, None))))
    return result


def compute_call(
    session: Session, period: Period, *, catch_up_only: bool = False
) -> list[ServiceCall]:
    """Each budgeted service's part of the call of ``period`` (nothing written). With
    ``catch_up_only`` (mode « at once »): only the catch-up of a revision."""
    year = period.start.year
    schedule = schedule_of(session, year)
    codes = schedule_codes(schedule)
    if period.code not in codes:
        raise BudgetError(
            f"{period.label} n'est pas une échéance du calendrier {year} (appels "
            f"{Frequency(schedule.frequency).label} : {codes[0]} à {codes[-1]})."
        )
    budgets = current_budgets(session, year)
    if not budgets:
        raise BudgetError(f"Aucun budget voté pour {year} : rien à appeler.")
    called = called_so_far(session, year)
    last_year = last_year_amounts(session, year - 1)
    members = _members(session, period, year)
    carrier = get_carrier(session)
    starts = [parse_period_code(code)[1] for code in codes]
    index = starts.index(period.start)
    mode = CatchUp(schedule.catch_up)
    result = []
    for service_id, budget in sorted(budgets.items(), key=lambda kv: kv[1].service.code):
        done = [called.get(service_id, {}).get(s, ZERO) for s in starts[:index]]
        if catch_up_only:
            done = [called.get(service_id, {}).get(s, ZERO) for s in starts[:index + 1]]
        plan = call_pools(budget.net, len(codes), done, mode)
        pool = plan.catch_up if catch_up_only else (plan.remaining[0] if plan.remaining else ZERO)
        key = _call_key(session, budget, period.start)
        bases = [CallMember(m.code, days, fig[0], fig[1],
                            last_year.get((m.id, service_id)) if last_year else None)
                 for m, days, fig in members]  # fmt: skip
        by_code = call_shares(pool, key, bases, period.days)
        ids = {m.code: m.id for m, _, _ in members}
        shares = {ids[c]: v for c, v in by_code.items() if ids[c] != carrier.member_id}
        result.append(ServiceCall(budget.service, budget, plan, pool, key, shares))
    return result


def issue_calls(
    session: Session, period_code: str, *, issue_date: date | None = None, issued_by: str = "",
    catch_up_only: bool = False,
) -> list[Invoice]:
    """Issue the call of ``period_code`` (« 2025-T1 »): one « Appel de fonds » per member.
    Refused: a period outside the schedule, a call already issued for it, no budget."""
    period = get_or_create_period(session, period_code)
    issue_date = issue_date or date.today()
    if not catch_up_only and _already_called(session, period):
        raise BudgetError(f"L'appel de fonds de {period.label} est déjà émis.")
    parts = compute_call(session, period, catch_up_only=catch_up_only)
    lines: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for part in parts:
        for member_id, amount in part.shares.items():
            if amount != ZERO:
                lines[member_id][part.service.id] = amount
    if not lines:
        raise BudgetError(f"Rien à appeler pour {period.label}.")
    by_service = {p.service.id: p for p in parts}
    what = "Rattrapage de la révision" if catch_up_only else "Appel de fonds provisionnel"
    batch = f"{period.code}:{'rattrapage:' + str(issue_date) if catch_up_only else 'appel'}"

    def describe(member: Member, service: Service, amount: Decimal) -> tuple[str, dict]:
        part = by_service[service.id]
        text = (f"{what} — {service.name} — {period.label} — budget {part.budget.year} "
                f"(révision {part.budget.revision}) : {format_eur(part.pool)} appelés selon "
                f"{describe_key_fr(part.key)}")  # fmt: skip
        return text, {"call": {"budget_id": part.budget.id, "revision": part.budget.revision,
                               "net": str(part.budget.net), "pool": str(part.pool),
                               "mode": part.plan.mode.value, "batch": batch}}

    drafting = Drafting(
        period=period, role=InvoiceRole.CALL, service_start=period.start,
        service_end=period.end, account=lambda s: ADVANCES_ACCOUNT, describe=describe,
        reason=(f"Appel de fonds — facture d'acompte à valoir sur la régularisation de "
                f"l'exercice {period.start.year}."),
    )  # fmt: skip
    drafts = draft_documents(session, [plan_kind(m, ls) for m, ls in lines.items()], drafting)
    return issue_documents(session, drafts, issue_date, issued_by, f"appel {period.code}")


def _already_called(session: Session, period: Period) -> bool:
    return session.scalar(
        select(Invoice.id).where(Invoice.period_id == period.id,
                                 Invoice.role == InvoiceRole.CALL.value,
                                 Invoice.status != InvoiceStatus.DRAFT.value).limit(1)
    ) is not None  # fmt: skip
