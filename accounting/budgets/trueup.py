"""The year-end true-up (régularisation, DESIGN §5b): once the fiscal year's allocation is
approved, each member gets what it owes beyond its calls (an invoice) or what it paid too much
(a credit note), with the statement: calls, actual share per service, difference.

It is the difference invoicing of the corrections issue read over the year:

    true-up(member, service) = year's approved allocation − every document of the year
                               (calls, earlier true-ups, invoices of its months, quarters)

(``year_documents``) for the services with a budget that year (the others are invoiced
period by period; once a service's funds are called, its months and quarters no longer
invoice it: ``accounting.invoicing.differences.called_services``). So after any true-up each
member's documents for the year add up to its actual allocation, to the cent; a correction of
the year's allocation is trued up by running it again.

The ledger: calls were credited to 4191 (advances received); the true-up moves what they
called to the services' revenue accounts (one OD entry, per service: debit 4191, credit 706x),
so that the year's revenue is its approved allocation. Two true-ups at once: the unique
(year, round) of ``TrueUp`` refuses the second (PostgreSQL), besides the series lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine, AllocationRunService
from accounting.budgets.calls import calls_by_pair
from accounting.budgets.documents import Drafting, draft_documents, issue_documents
from accounting.budgets.errors import BudgetError, TrueUpRefused
from accounting.budgets.models import ADVANCES_ACCOUNT, Budget, TrueUp
from accounting.invoicing.amounts import InvoiceKind, InvoiceRole, InvoiceStatus, format_eur
from accounting.invoicing.differences import differences, plan_documents
from accounting.invoicing.issue import lock_series
from accounting.invoicing.models import Invoice, InvoiceLine, money_sum
from accounting.invoicing.parties import get_carrier
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.ledger.posting import post_entry, signed_line
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import Period, get_or_create_period


@dataclass(frozen=True)
class TrueUpResult:
    true_up: TrueUp
    documents: list[Invoice]
    transferred: Decimal


def year_allocation(session: Session, period: Period) -> tuple[int, dict[tuple[int, int], Decimal]]:
    """(run id, (member id, service id) → amount) of the year period's approved allocation;
    refused when the year's allocation is not approved."""
    rows = session.execute(
        select(AllocationLine.run_id, AllocationLine.member_id, AllocationLine.service_id,
               AllocationLine.amount)
        .join(AllocationRunService, (AllocationRunService.run_id == AllocationLine.run_id)
              & (AllocationRunService.service_id == AllocationLine.service_id))
        .where(AllocationRunService.period_id == period.id, AllocationRunService.approved)
    ).all()  # fmt: skip
    if not rows:
        raise TrueUpRefused(
            f"La répartition de l'exercice {period.label} n'est pas approuvée : lancez "
            f"« mutualise allocate {period.code} --store --approve » avant la régularisation."
        )
    return max(r[0] for r in rows), {(m, s): amount for _, m, s, amount in rows}


def statement(session: Session, year: int) -> dict[tuple[int, int], dict[str, Decimal]]:
    """(member id, service id) → calls, year's documents and allocation (what the portal and
    the documents show); the allocation is zero while the year is not approved."""
    period = get_or_create_period(session, str(year))
    documented = year_documents(session, year)
    calls = calls_by_pair(session, year)
    try:
        _, target = year_allocation(session, period)
    except TrueUpRefused:
        target = {}
    result = {}
    for pair in set(documented) | set(target) | set(calls):
        result[pair] = {"calls": calls.get(pair, ZERO), "documented": documented.get(pair, ZERO),
                        "actual": target.get(pair, ZERO)}
    return result


def budgeted_services(session: Session, year: int) -> set[int]:
    """The services with a budget for ``year``: the true-up covers them only (the others are
    invoiced period by period)."""
    return set(session.scalars(select(Budget.service_id).where(Budget.year == year)))


def year_documents(session: Session, year: int) -> dict[tuple[int, int], Decimal]:
    """(member id, service id) → Σ invoice lines − Σ credit-note lines of every issued
    document of the fiscal year: calls, true-ups, and the invoices of its months, quarters and
    the year itself (a service invoiced by period before its calls began counts too)."""
    signed = case(
        (Invoice.kind == InvoiceKind.CREDIT_NOTE.value, -InvoiceLine.amount_excl_tax),
        else_=InvoiceLine.amount_excl_tax,
    )
    rows = session.execute(
        select(Invoice.member_id, InvoiceLine.service_id, money_sum(signed))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(Period, Period.id == Invoice.period_id)
        .where(Period.start >= date(year, 1, 1), Period.end <= date(year, 12, 31),
               Invoice.status != InvoiceStatus.DRAFT.value)
        .group_by(Invoice.member_id, InvoiceLine.service_id)
    )  # fmt: skip
    return {(m, s): total for m, s, total in rows}


def true_up(
    session: Session, year: int, *, issue_date: date | None = None, issued_by: str = ""
) -> TrueUpResult:
    """Issue the true-up of ``year`` (see the module). Everything or nothing: a refusal rolls
    back what this call wrote."""
    issue_date = issue_date or date.today()
    period = get_or_create_period(session, str(year))
    run_id, target = year_allocation(session, period)
    next_round = (session.scalar(select(func.max(TrueUp.round)).where(TrueUp.year == year))
                  or 0) + 1  # fmt: skip
    savepoint = session.begin_nested()
    try:
        record = TrueUp(year=year, round=next_round, run_id=run_id, done_by=issued_by)
        session.add(record)
        try:
            session.flush()
        except IntegrityError as error:
            raise TrueUpRefused(
                f"Une autre régularisation de {year} vient d'être faite en même temps : "
                "rien n'a été écrit, rechargez la page pour voir ses documents."
            ) from error
        result = _documents_and_transfer(session, year, period, record, target, issue_date,
                                         issued_by)  # fmt: skip
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _documents_and_transfer(
    session: Session, year: int, period: Period, record: TrueUp,
    target: dict[tuple[int, int], Decimal], issue_date: date, issued_by: str,
) -> TrueUpResult:
    carrier = get_carrier(session)
    lock_series(session, carrier.id, issue_date.year)  # then read: a second one waits here
    budgeted = budgeted_services(session, year)
    target = {pair: v for pair, v in target.items()
              if pair[0] != carrier.member_id and pair[1] in budgeted}
    documented = {p: v for p, v in year_documents(session, year).items() if p[1] in budgeted}
    plans = plan_documents(differences(target, documented))
    to_transfer = _to_transfer(session, year)
    if not plans and not any(to_transfer.values()):
        raise TrueUpRefused(
            f"Rien à régulariser pour {year} : les documents de l'exercice égalent déjà sa "
            "répartition approuvée."
        )
    calls = calls_by_pair(session, year)

    def describe(member: Member, service: Service, amount: Decimal) -> tuple[str, dict]:
        pair = (member.id, service.id)
        actual, before = target.get(pair, ZERO), documented.get(pair, ZERO)
        text = (f"Régularisation {year} — {service.name} — part réelle {format_eur(actual)}, "
                f"appels {format_eur(calls.get(pair, ZERO))}, déjà facturé au total "
                f"{format_eur(before)}")  # fmt: skip
        return text, {"statement": {"actual": str(actual), "calls": str(calls.get(pair, ZERO)),
                                    "documented": str(before),
                                    "difference": str(actual - before)}}

    drafting = Drafting(
        period=period, role=InvoiceRole.TRUE_UP, service_start=period.start,
        service_end=period.end, account=lambda s: s.revenue_account, describe=describe,
        reason=(f"Régularisation de l'exercice {year} : répartition approuvée moins les appels "
                "de fonds et documents déjà émis (relevé joint)."),
    )  # fmt: skip
    drafts = draft_documents(session, plans, drafting)
    documents = issue_documents(session, drafts, issue_date, issued_by, f"régularisation {year}")
    transferred = _post_transfer(session, year, record, to_transfer, issue_date, issued_by)
    return TrueUpResult(record, documents, transferred)


def _to_transfer(session: Session, year: int) -> dict[int, Decimal]:
    """service id → the calls' amount excl. tax still on 4191 (invoiced − already moved)."""
    called: dict[int, Decimal] = {}
    for (_, sid), amount in calls_by_pair(session, year).items():
        called[sid] = called.get(sid, ZERO) + amount
    moved = dict(session.execute(
        select(JournalLine.service_id, func.sum(JournalLine.debit - JournalLine.credit))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_type == "call_transfer", JournalLine.account == ADVANCES_ACCOUNT,
               JournalEntry.source_id.in_(select(TrueUp.id).where(TrueUp.year == year)))
        .group_by(JournalLine.service_id)
    ).all())  # fmt: skip
    return {sid: amount - Decimal(moved.get(sid) or 0) for sid, amount in called.items()}


def _post_transfer(
    session: Session, year: int, record: TrueUp, to_transfer: dict[int, Decimal],
    day: date, issued_by: str,
) -> Decimal:
    services = {s.id: s for s in session.scalars(select(Service).where(
        Service.id.in_(to_transfer)))}
    lines = []
    for sid, amount in sorted(to_transfer.items()):
        if amount == ZERO:
            continue
        name = services[sid].name
        lines.append(signed_line(ADVANCES_ACCOUNT, amount, service_id=sid,
                                 label=f"Appels {year} – {name}"))
        lines.append(signed_line(services[sid].revenue_account, -amount, service_id=sid,
                                 label=f"Appels {year} – {name}",
                                 account_label=f"Refacturation : {name}"))
    if not lines:
        return ZERO
    post_entry(session, journal="OD", entry_date=day,
               label=f"Régularisation {year} : appels de fonds virés en produits",
               piece_ref=f"REGUL-{year}-{record.round}", lines=lines,
               source_type="call_transfer", source_id=record.id,
               validated_by=issued_by or None)  # fmt: skip
    return sum(to_transfer.values(), ZERO)


__all__ = ["BudgetError", "TrueUpResult", "statement", "true_up", "year_allocation"]
