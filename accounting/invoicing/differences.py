"""What a period still has to invoice or credit: the approved run minus the documents issued.

Design (DESIGN §4 « Key versions, corrections… », invariant 10): the documents of a period —
invoices, credit notes — must add up, per member and service, to the period's approved
allocation, to the cent, after any number of corrections. Issuing a period is therefore always
the same computation, whether it is the first time or the fifth:

    difference(member, service) = approved amount − (Σ invoice lines − Σ credit-note lines)

and each member with a difference gets ONE document: a (supplementary) invoice when its net
difference is positive or zero, a credit note when it is negative — never a refusal, also for a
member whose whole allocation is negative (subsidies above costs). An invoice line carries the
signed difference of its service; a credit-note line the signed amount it credits (so a service
that went up inside a credit note is a negative line, as a negative pool is on an invoice).

:func:`differences` and :func:`plan_documents` are pure (property-tested without a database);
:func:`approved_amounts` and :func:`documented_amounts` read the two sides with one aggregate
query each; :func:`cited_invoices` picks the earlier invoice a correction cites.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationLine
from accounting.invoicing.amounts import InvoiceKind, InvoiceRole, InvoiceStatus
from accounting.invoicing.models import Invoice, InvoiceLine, money_sum
from accounting.money import ZERO
from accounting.periods import Period, PeriodKind

M = TypeVar("M", bound=Hashable)
S = TypeVar("S", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class DocumentPlan(Generic[M, S]):
    """One document to issue for a member: its kind and its lines (service → amount as
    printed on the document: for a credit note, the amount credited)."""

    member: M
    kind: InvoiceKind
    lines: dict[S, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.lines.values(), ZERO)

    def signed(self) -> dict[S, Decimal]:
        """What the document adds to the member's invoiced amount per service."""
        sign = -1 if self.kind is InvoiceKind.CREDIT_NOTE else 1
        return {service: sign * amount for service, amount in self.lines.items()}


def differences(
    target: Mapping[tuple[M, S], Decimal], documented: Mapping[tuple[M, S], Decimal]
) -> dict[M, dict[S, Decimal]]:
    """member → service → approved − documented, the zero differences left out."""
    result: dict[M, dict[S, Decimal]] = defaultdict(dict)
    for key in set(target) | set(documented):
        delta = target.get(key, ZERO) - documented.get(key, ZERO)
        if delta != ZERO:
            result[key[0]][key[1]] = delta
    return dict(result)


def plan_documents(diffs: Mapping[M, Mapping[S, Decimal]]) -> list[DocumentPlan[M, S]]:
    """One document per member with a difference: an invoice when the member's net difference
    is ≥ 0, else a credit note (its lines are the differences with the sign reversed)."""
    plans = []
    for member, lines in diffs.items():
        if not lines:
            continue
        net = sum(lines.values(), ZERO)
        if net >= ZERO:
            plans.append(DocumentPlan(member, InvoiceKind.INVOICE, dict(lines)))
        else:
            plans.append(DocumentPlan(
                member, InvoiceKind.CREDIT_NOTE, {s: -amount for s, amount in lines.items()}
            ))  # fmt: skip
    return plans


def apply_plans(
    documented: Mapping[tuple[M, S], Decimal], plans: list[DocumentPlan[M, S]]
) -> dict[tuple[M, S], Decimal]:
    """``documented`` after the planned documents are issued (for checks and tests)."""
    result = dict(documented)
    for plan in plans:
        for service, amount in plan.signed().items():
            key = (plan.member, service)
            result[key] = result.get(key, ZERO) + amount
    return result


# --------------------------------------------------------------------------- the database


def approved_amounts(
    session: Session, run_services: list, *, exclude_member: int | None = None
) -> dict[tuple[int, int], AllocationLine]:
    """(member id, service id) → the approved allocation line, from the approved run services
    of a period (``accounting.allocation.runs.approved_run_services``)."""
    pairs = {(rs.run_id, rs.service_id) for rs in run_services}
    if not pairs:
        return {}
    lines = session.scalars(
        select(AllocationLine).where(AllocationLine.run_id.in_({p[0] for p in pairs}))
    )
    result: dict[tuple[int, int], AllocationLine] = {}
    for line in lines:
        if (line.run_id, line.service_id) in pairs and line.member_id != exclude_member:
            result[(line.member_id, line.service_id)] = line
    return result


def documented_amounts(session: Session, period: Period) -> dict[tuple[int, int], Decimal]:
    """(member id, service id) → Σ invoice lines − Σ credit-note lines of the period's issued
    documents (cancelled invoices included: their credit notes count against them).

    Calls for funds (DESIGN §5b) belong to their fiscal year, not to the month or quarter they
    are dated in: they count for the year period only, so that the year's true-up is this same
    difference (approved − calls − earlier true-ups)."""
    signed = case(
        (Invoice.kind == InvoiceKind.CREDIT_NOTE.value, -InvoiceLine.amount_excl_tax),
        else_=InvoiceLine.amount_excl_tax,
    )
    own = and_(Invoice.period_id == period.id, Invoice.role != InvoiceRole.CALL.value)
    if period.kind == PeriodKind.YEAR:
        calls = and_(
            Invoice.role == InvoiceRole.CALL.value,
            Invoice.service_start >= period.start, Invoice.service_start <= period.end,
        )
        own = or_(own, calls)
    rows = session.execute(
        select(Invoice.member_id, InvoiceLine.service_id, money_sum(signed))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(own, Invoice.status != InvoiceStatus.DRAFT.value)
        .group_by(Invoice.member_id, InvoiceLine.service_id)
    )
    return {(m, s): total for m, s, total in rows}


def called_services(session: Session, period: Period) -> set[int]:
    """The services whose funds are called for the fiscal year of ``period`` (an issued call
    of that year): a month or a quarter does not invoice them, the year's true-up does
    (DESIGN §5b). Empty for a year period."""
    if period.kind == PeriodKind.YEAR:
        return set()
    year = period.start.year
    return set(session.scalars(
        select(InvoiceLine.service_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.role == InvoiceRole.CALL.value,
               Invoice.status != InvoiceStatus.DRAFT.value,
               Invoice.service_start >= date(year, 1, 1),
               Invoice.service_start <= date(year, 12, 31)).distinct()
    ))  # fmt: skip


def without_services(mapping: Mapping[tuple[M, S], V], services: set[S]) -> dict[tuple[M, S], V]:
    """``mapping`` without the pairs of ``services``."""
    return {pair: value for pair, value in mapping.items() if pair[1] not in services}


def draft_amounts(drafts: list[Invoice]) -> dict[tuple[int, int], Decimal]:
    """What drafts would add, signed, per (member id, service id)."""
    result: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for draft in drafts:
        sign = -1 if draft.is_credit_note else 1
        for line in draft.lines:
            result[(draft.member_id, line.service_id)] += sign * line.amount_excl_tax
    return {k: v for k, v in result.items() if v != ZERO}


def cited_invoices(session: Session, period: Period) -> dict[int, Invoice]:
    """member id → the invoice a correction cites: the member's latest issued invoice of the
    period not entirely credited, else its latest invoice of the period."""
    result: dict[int, Invoice] = {}
    for invoice in session.scalars(
        select(Invoice)
        .where(
            Invoice.period_id == period.id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.role != InvoiceRole.CALL.value,
        )
        .order_by(Invoice.issue_date, Invoice.sequence)
    ):
        current = result.get(invoice.member_id)
        if current is None or invoice.status != InvoiceStatus.CANCELLED.value or (
            current.status == InvoiceStatus.CANCELLED.value
        ):
            result[invoice.member_id] = invoice
    return result
