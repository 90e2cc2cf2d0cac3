"""Year-end cut-off (« factures à établir »): the services of a fiscal year invoiced after it
are accrued in it, and the accrual is reversed at the opening of the next year.

Why: the members' allocation of a quarter is invoiced the month after (Q4 2025 on 10 January
2026). Without a cut-off, 2025 shows the cost of Q4 without its revenue (a loss carried to
119) and 2026 a matching profit. With it, **the year's revenue equals the year's approved
allocations** (excluding the carrier's own share, which is never invoiced).

For fiscal year N (its closing date ``end``), per member and service:

    to accrue = approved allocation of the periods inside N
              − documents of those periods issued on or before ``end`` (invoices − credit notes)

posted on ``end`` in OD (debit 4181 + member code incl. tax, credit the service's revenue
account excl. tax, credit 445870 the VAT where the member's regime has some), then reversed on
the first day of N+1 (the same lines swapped, ``reverses_id`` pointing at it): the invoice
issued in N+1 credits revenue again, the reversal debits it, N+1 keeps nothing of N.

Idempotent and append-only: running it again posts only the difference with what is already
accrued for N (a correction approved after the first run), with its own reversal. A period
that straddles the closing date is not accrued and is named (:class:`CutoffReport`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine, AllocationRunService
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus, vat_amount, vat_rate_for
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.services import get_carrier, resolve_vat_regime, vat_regimes
from accounting.ledger.chart import INVOICES_TO_ISSUE, VAT_TO_INVOICE, check_account_number
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.ledger.posting import LineSpec, post_entry, signed_line
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import Period

CUTOFF, REVERSAL = "cutoff", "cutoff_reversal"


@dataclass
class CutoffReport:
    """What a cut-off run found and posted."""

    year: int
    end: date
    #: (member code, service code) -> amount excl. tax to accrue in total.
    accrued: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    #: Periods across the closing date (labels): not accrued.
    straddling: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(self.accrued.values(), ZERO)


def _periods(session: Session, start: date, end: date) -> tuple[list[Period], list[Period]]:
    rows = session.scalars(select(Period).where(Period.start <= end, Period.end >= start))
    inside, straddling = [], []
    for period in rows:
        (inside if period.start >= start and period.end <= end else straddling).append(period)
    return inside, straddling


def to_accrue(session: Session, year: int) -> tuple[dict[tuple[int, int], Decimal], list[str]]:
    """(member id, service id) -> approved allocation of fiscal year ``year`` not invoiced on
    or before its closing date (excl. tax; the carrier's own member left out); and the labels
    of the periods straddling the closing date."""
    start, end = fiscal_year_bounds(year, carrier_start_month(session))
    inside, straddling = _periods(session, start, end)
    ids = [period.id for period in inside]
    carrier = get_carrier(session)
    wanted: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    if ids:
        approved = (
            select(AllocationLine.member_id, AllocationLine.service_id, AllocationLine.amount)
            .join(AllocationRunService, (AllocationRunService.run_id == AllocationLine.run_id)
                  & (AllocationRunService.service_id == AllocationLine.service_id))
            .where(AllocationRunService.approved, AllocationRunService.period_id.in_(ids))
        )  # fmt: skip
        for member_id, service_id, amount in session.execute(approved):
            if member_id != carrier.member_id:
                wanted[(member_id, service_id)] += amount
        issued = (
            select(Invoice.member_id, Invoice.kind, InvoiceLine.service_id,
                   InvoiceLine.amount_excl_tax)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.period_id.in_(ids), Invoice.status != InvoiceStatus.DRAFT.value,
                   Invoice.issue_date <= end)
        )  # fmt: skip
        for member_id, kind, service_id, amount in session.execute(issued):
            sign = -1 if kind == InvoiceKind.CREDIT_NOTE.value else 1
            wanted[(member_id, service_id)] -= sign * amount
    return {key: amount for key, amount in wanted.items() if amount}, [
        period.label for period in straddling
    ]


def already_accrued(session: Session, year: int) -> dict[tuple[int, int], Decimal]:
    """(member id, service id) -> what the cut-off entries of ``year`` accrued (excl. tax)."""
    entries = select(JournalEntry.id).where(JournalEntry.source_type == CUTOFF,
                                             JournalEntry.source_id == year)  # fmt: skip
    members = dict(
        session.execute(
            select(JournalLine.entry_id, JournalLine.member_id).where(
                JournalLine.entry_id.in_(entries), JournalLine.member_id.is_not(None))
        ).tuples().all()
    )  # fmt: skip
    found: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    rows = session.execute(
        select(JournalLine.entry_id, JournalLine.service_id, JournalLine.account,
               JournalLine.debit, JournalLine.credit)
        .where(JournalLine.entry_id.in_(entries), JournalLine.service_id.is_not(None))
    )  # fmt: skip
    for entry_id, service_id, account, debit, credit in rows:
        if account != VAT_TO_INVOICE:
            found[(members[entry_id], service_id)] += credit - debit
    return found


def post_cutoff(session: Session, year: int, *, user: str | None = None) -> CutoffReport:
    """Accrue what fiscal year ``year`` has not invoiced yet and reverse it at the opening of
    the next one (only the difference with an earlier run). Flushes, never commits; refused
    (``PeriodClosed``) when the closing day or the next opening day is in a closed period."""
    start_month = carrier_start_month(session)
    _, end = fiscal_year_bounds(year, start_month)
    opening = end + timedelta(days=1)
    wanted, straddling = to_accrue(session, year)
    done = already_accrued(session, year)
    report = CutoffReport(year, end, straddling=straddling)
    members = {m.id: m for m in session.scalars(select(Member))}
    services = {s.id: s for s in session.scalars(select(Service))}
    for (member_id, service_id), amount in sorted(wanted.items()):
        key = (members[member_id].code, services[service_id].code)
        report.accrued[key] = amount
    diff: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for key in set(wanted) | set(done):
        change = wanted.get(key, ZERO) - done.get(key, ZERO)
        if change:
            diff[key[0]][key[1]] = change
    carrier = get_carrier(session)
    rules = vat_regimes(session, carrier, diff)
    for member_id in sorted(diff, key=lambda m: members[m].code):
        member = members[member_id]
        lines = _accrual_lines(diff[member_id], member, services, rules, carrier.vat_regime)
        label = f"Factures à établir au {end:%d/%m/%Y} – {member.name}"
        accrual = post_entry(
            session, journal="OD", entry_date=end, label=label, piece_ref=f"FAE{year}",
            lines=lines, source_type=CUTOFF, source_id=year, validated_by=user,
        )  # fmt: skip
        reversal = post_entry(
            session, journal="OD", entry_date=opening, label=f"Extourne – {label}",
            piece_ref=f"FAE{year}", piece_date=end,
            lines=[LineSpec(x.account, debit=x.credit, credit=x.debit, label=f"Extourne – "
                            f"{x.label}", member_id=x.member_id, service_id=x.service_id)
                   for x in accrual.lines],
            source_type=REVERSAL, source_id=year, reverses_id=accrual.id, validated_by=user,
        )  # fmt: skip
        report.entries += [accrual, reversal]
    return report


def _accrual_lines(
    amounts: dict[int, Decimal], member: Member, services: dict[int, Service],
    rules: dict, default_regime: str,
) -> list[LineSpec | None]:  # fmt: skip
    """Debit 4181 + member (incl. tax), credit revenue per service and 445870 for the VAT."""
    customer = check_account_number(INVOICES_TO_ISSUE + member.code.replace(" ", ""))
    revenue, vat = [], []
    total = ZERO
    for service_id, amount in sorted(amounts.items()):
        service = services[service_id]
        rate = vat_rate_for(resolve_vat_regime(rules, default_regime, member.id, service_id))
        tax = vat_amount(amount, rate)
        total += amount + tax
        text = f"Factures à établir – {service.name}"
        revenue.append(signed_line(service.revenue_account, -amount, label=text,
                                   service_id=service_id))  # fmt: skip
        vat.append(signed_line(VAT_TO_INVOICE, -tax, label=f"{text} – TVA",
                               service_id=service_id))  # fmt: skip
    head = signed_line(customer, total, label=f"Factures à établir – {member.name}",
                       member_id=member.id, account_label=f"Factures à établir – {member.name}")
    return [head, *revenue, *vat]
