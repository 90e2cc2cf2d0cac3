"""Year-end cut-off (« factures à établir »): the services of a fiscal year invoiced after it
are accrued in it, and the accrual is reversed at the opening of the next year.

Why: the members' allocation of a quarter is invoiced the month after (Q4 2025 on 10 January
2026). Without a cut-off, 2025 shows the cost of Q4 without its revenue (a loss carried to
119) and 2026 a matching profit. With it, **the year's revenue equals the year's approved
allocations** (excluding the carrier's own share, which is never invoiced).

For fiscal year N (its closing date ``end``), per member and service:

    to accrue = approved allocation of N
              − documents of N's periods issued on or before ``end`` (invoices − credit notes,
                calls for funds included)

posted on ``end`` in OD (debit 4181 + member code incl. tax, credit the service's revenue
account excl. tax, credit 445870 the VAT where the member's regime has some), then reversed on
the first day of N+1 (the same lines swapped, ``reverses_id`` pointing at it): the invoice
issued in N+1 credits revenue again, the reversal debits it, N+1 keeps nothing of N. A member
whose total is negative — its calls exceed its share, the true-up will be a credit note — is
accrued the other way: debit revenue and 445870, credit 4198 + member code (« avoirs à
établir »).

A service whose funds are called for N (DESIGN §5b: a call issued for N) is allocated by the
year period's run only (its months are not allocated; one approved run per service and day).
Its calls were credited to 4191 (advances received) and move to revenue only with the
true-up, usually issued in January of N+1; so the cut-off also moves, per service, the calls of
N issued by ``end`` that no true-up dated by ``end`` moved (debit 4191, credit revenue, on
``end``, reversed on the first day of N+1: the true-up's own transfer then balances the
reversal). Calls issued in N for periods of N+1 stay on 4191. When the year's run of a called
service is not approved yet, only its calls are moved and the service is named
(:class:`CutoffReport`).

Idempotent and append-only: running it again posts only the difference with what is already
accrued and moved for N (a correction approved after the first run), with its own reversal;
everything is read as it stood on ``end``, so a true-up issued after ``end`` changes nothing.
A period that straddles the closing date is not accrued and is named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationRunService, approved_lines
from accounting.budgets.models import ADVANCES_ACCOUNT, TrueUp
from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceRole,
    InvoiceStatus,
    vat_amount,
    vat_rate_for,
)
from accounting.invoicing.models import Invoice, InvoiceLine, money_sum
from accounting.invoicing.services import get_carrier, resolve_vat_regime, vat_regimes
from accounting.ledger.chart import (
    CREDIT_NOTES_TO_ISSUE,
    INVOICES_TO_ISSUE,
    VAT_TO_INVOICE,
    check_account_number,
)
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_bounds
from accounting.ledger.models import JournalEntry, JournalLine
from accounting.ledger.posting import LineSpec, post_entry, signed_line
from accounting.money import ZERO
from accounting.org import Member, Service
from accounting.periods import Period, PeriodKind

CUTOFF, REVERSAL = "cutoff", "cutoff_reversal"
#: The calls of the year moved from 4191 to revenue at closing, and their reversal.
CALLS_CUTOFF, CALLS_REVERSAL = "cutoff_calls", "cutoff_calls_rev"
#: The true-up's own move of the calls to revenue (``accounting.budgets.trueup``).
TRUE_UP_TRANSFER = "call_transfer"


@dataclass
class CutoffReport:
    """What a cut-off run found and posted."""

    year: int
    end: date
    #: (member code, service code) -> amount excl. tax to accrue in total (negative: a
    #: credit note to issue).
    accrued: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    #: service code -> the calls of the year moved from 4191 to revenue in total.
    transferred: dict[str, Decimal] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    #: Periods across the closing date (labels): not accrued.
    straddling: list[str] = field(default_factory=list)
    #: Called services (names) whose year's run is not approved: calls moved, nothing accrued.
    unapproved: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(self.accrued.values(), ZERO)


def _periods(session: Session, start: date, end: date) -> tuple[list[Period], list[Period]]:
    rows = session.scalars(select(Period).where(Period.start <= end, Period.end >= start))
    inside, straddling = [], []
    for period in rows:
        (inside if period.start >= start and period.end <= end else straddling).append(period)
    return inside, straddling


def _issued_calls(start: date, end: date) -> tuple[ColumnElement[bool], ...]:
    """The issued calls for funds whose period begins inside [start, end]."""
    return (Invoice.role == InvoiceRole.CALL.value, Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.service_start >= start, Invoice.service_start <= end)  # fmt: skip


def _approved(
    session: Session, ids: list[int], start: date, end: date
) -> tuple[dict[tuple[int, int], Decimal], set[int]]:
    """(member id, service id) -> the approved allocation of the periods ``ids`` (one approved
    run per service and day: a called service's is the year period's, DESIGN §5b); and the
    called services whose year's run is not approved."""
    rows = session.execute(approved_lines().where(AllocationRunService.period_id.in_(ids))).all()
    called = set(session.scalars(
        select(InvoiceLine.service_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*_issued_calls(start, end))
    ))  # fmt: skip
    carrier = get_carrier(session)
    wanted: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for member_id, service_id, amount, _ in rows:
        if member_id != carrier.member_id:
            wanted[(member_id, service_id)] += amount
    return wanted, called - {s for _, s, _, kind in rows if kind == PeriodKind.YEAR.value}


def to_accrue(
    session: Session, year: int
) -> tuple[dict[tuple[int, int], Decimal], list[str], set[int]]:
    """(member id, service id) -> approved allocation of fiscal year ``year`` not invoiced on
    or before its closing date (excl. tax; the carrier's own member left out; calls for funds
    count as invoiced); the labels of the periods straddling the closing date; the called
    services whose year's run is not approved (left out)."""
    start, end = fiscal_year_bounds(year, carrier_start_month(session))
    inside, straddling = _periods(session, start, end)
    ids = [period.id for period in inside]
    wanted: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    unapproved: set[int] = set()
    if ids:
        wanted, unapproved = _approved(session, ids, start, end)
        issued = (
            select(Invoice.member_id, Invoice.kind, InvoiceLine.service_id,
                   InvoiceLine.amount_excl_tax)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(Invoice.period_id.in_(ids), Invoice.status != InvoiceStatus.DRAFT.value,
                   Invoice.issue_date <= end)
        )  # fmt: skip
        for member_id, kind, service_id, amount in session.execute(issued):
            if service_id in unapproved:
                continue
            sign = -1 if kind == InvoiceKind.CREDIT_NOTE.value else 1
            wanted[(member_id, service_id)] -= sign * amount
    return (
        {key: amount for key, amount in wanted.items() if amount},
        [period.label for period in straddling],
        unapproved,
    )


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


def calls_to_transfer(session: Session, year: int) -> dict[int, Decimal]:
    """service id -> what 4191 holds for ``year``'s calls on its closing day: the calls of the
    year issued by then (excl. tax, a call's credit note negative) less what the year's
    true-ups dated by then moved to revenue. Calls of the next year's periods are not read."""
    start, end = fiscal_year_bounds(year, carrier_start_month(session))
    signed = case((Invoice.kind == InvoiceKind.CREDIT_NOTE.value, -InvoiceLine.amount_excl_tax),
                  else_=InvoiceLine.amount_excl_tax)  # fmt: skip
    called = session.execute(
        select(InvoiceLine.service_id, money_sum(signed))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*_issued_calls(start, end), Invoice.issue_date <= end)
        .group_by(InvoiceLine.service_id)
    ).tuples().all()  # fmt: skip
    moved = _on_advances(
        session,
        select(JournalEntry.id).where(
            JournalEntry.source_type == TRUE_UP_TRANSFER,
            JournalEntry.entry_date <= end,
            JournalEntry.source_id.in_(select(TrueUp.id).where(TrueUp.year == year)),
        ),
    )
    return {sid: amount - moved.get(sid, ZERO) for sid, amount in called}


def _on_advances(session: Session, entries: Select[tuple[int]]) -> dict[int, Decimal]:
    """service id -> Σ debit − credit on 4191 of ``entries``."""
    rows = session.execute(
        select(JournalLine.service_id, money_sum(JournalLine.debit - JournalLine.credit))
        .where(JournalLine.entry_id.in_(entries), JournalLine.account == ADVANCES_ACCOUNT)
        .group_by(JournalLine.service_id)
    ).tuples().all()  # fmt: skip
    return dict(rows)


def already_transferred(session: Session, year: int) -> dict[int, Decimal]:
    """service id -> the calls the cut-off entries of ``year`` moved to revenue."""
    return _on_advances(
        session,
        select(JournalEntry.id).where(
            JournalEntry.source_type == CALLS_CUTOFF, JournalEntry.source_id == year
        ),
    )


def _changes(wanted: dict, done: dict) -> dict:
    return {
        key: wanted.get(key, ZERO) - done.get(key, ZERO)
        for key in set(wanted) | set(done)
        if wanted.get(key, ZERO) != done.get(key, ZERO)
    }


def post_cutoff(session: Session, year: int, *, user: str | None = None) -> CutoffReport:
    """Accrue what fiscal year ``year`` has not invoiced yet, move its calls still on 4191 to
    revenue, and reverse both at the opening of the next one (only the difference with an
    earlier run). Flushes, never commits; refused (``PeriodClosed``) when the closing day or
    the next opening day is in a closed period."""
    start_month = carrier_start_month(session)
    _, end = fiscal_year_bounds(year, start_month)
    wanted, straddling, unapproved = to_accrue(session, year)
    report = CutoffReport(year, end, straddling=straddling)
    members = {m.id: m for m in session.scalars(select(Member))}
    services = {s.id: s for s in session.scalars(select(Service))}
    report.unapproved = sorted(services[sid].name for sid in unapproved)
    for (member_id, service_id), amount in sorted(wanted.items()):
        key = (members[member_id].code, services[service_id].code)
        report.accrued[key] = amount
    diff: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for (member_id, service_id), change in _changes(wanted, already_accrued(session, year)).items():
        diff[member_id][service_id] = change
    carrier = get_carrier(session)
    rules = vat_regimes(session, carrier, diff)
    for member_id in sorted(diff, key=lambda m: members[m].code):
        member = members[member_id]
        lines, credit = _accrual_lines(diff[member_id], member, services, rules,
                                       carrier.vat_regime)  # fmt: skip
        what = "Avoirs à établir" if credit else "Factures à établir"
        report.entries += _post_with_reversal(
            session,
            end,
            f"{what} au {end:%d/%m/%Y} – {member.name}",
            (f"AAE{year}" if credit else f"FAE{year}"),
            lines,
            (CUTOFF, REVERSAL),
            year,
            user,
        )
    transfer = calls_to_transfer(session, year)
    report.transferred = {services[sid].code: v for sid, v in sorted(transfer.items()) if v}
    lines = []
    for sid, amount in sorted(_changes(transfer, already_transferred(session, year)).items()):
        text = f"Appels de fonds {year} virés en produits – {services[sid].name}"
        lines += [signed_line(ADVANCES_ACCOUNT, amount, label=text, service_id=sid),
                  signed_line(services[sid].revenue_account, -amount, label=text,
                              service_id=sid)]  # fmt: skip
    if lines:
        report.entries += _post_with_reversal(
            session,
            end,
            f"Appels de fonds {year} virés en produits au {end:%d/%m/%Y}",
            f"APP{year}",
            lines,
            (CALLS_CUTOFF, CALLS_REVERSAL),
            year,
            user,
        )
    return report


def _post_with_reversal(
    session: Session, end: date, label: str, piece: str, lines: list[LineSpec | None],
    sources: tuple[str, str], year: int, user: str | None,
) -> list[JournalEntry]:  # fmt: skip
    """Post ``lines`` in OD on the closing day and their reversal on the next day."""
    accrual = post_entry(
        session, journal="OD", entry_date=end, label=label, piece_ref=piece, lines=lines,
        source_type=sources[0], source_id=year, validated_by=user,
    )  # fmt: skip
    reversal = post_entry(
        session, journal="OD", entry_date=end + timedelta(days=1), label=f"Extourne – {label}",
        piece_ref=piece, piece_date=end,
        lines=[LineSpec(x.account, debit=x.credit, credit=x.debit, label=f"Extourne – "
                        f"{x.label}", member_id=x.member_id, service_id=x.service_id)
               for x in accrual.lines],
        source_type=sources[1], source_id=year, reverses_id=accrual.id, validated_by=user,
    )  # fmt: skip
    return [accrual, reversal]


def _accrual_lines(
    amounts: dict[int, Decimal], member: Member, services: dict[int, Service],
    rules: dict, default_regime: str,
) -> tuple[list[LineSpec | None], bool]:  # fmt: skip
    """Revenue per service and 445870 for the VAT against the member's 4181 (incl. tax), or
    4198 when its total is a credit note to issue (the second value then True)."""
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
    credit = total < ZERO
    prefix, what = ((CREDIT_NOTES_TO_ISSUE, "Avoirs à établir") if credit
                    else (INVOICES_TO_ISSUE, "Factures à établir"))  # fmt: skip
    customer = check_account_number(prefix + member.code.replace(" ", ""))
    head = signed_line(
        customer,
        total,
        label=f"{what} – {member.name}",
        member_id=member.id,
        account_label=f"{what} – {member.name}",
    )
    return [head, *revenue, *vat], credit
