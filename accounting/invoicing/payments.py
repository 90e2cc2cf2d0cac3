"""Payments received from members and what they settle; balances and overdue invoices.

A payment is recorded against one or several invoices, or against the member's open invoices
oldest due date first. A payment larger than what is owed is **kept as a credit on account**:
the surplus stays on the payment as its unallocated part, the member's balance shows it
(negative: the carrier owes the member) and :func:`apply_member_credit` later settles new
invoices with it. Nothing is lost and a bank statement is always recorded as it is.

Functions flush, never commit; the ledger posts its bank entries from the returned payment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceStatus,
    PaymentMethod,
    allocate_oldest_first,
    format_eur,
    status_after,
)
from accounting.invoicing.errors import PaymentRefused
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation, money_sum
from accounting.money import ZERO, is_cents
from accounting.org import Member
from accounting.periods import closed_period_containing

#: Statuses of an invoice that may still receive money.
OPEN = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value)


def _open_invoices(session: Session, member_id: int, *, lock: bool = False) -> list[Invoice]:
    stmt = (
        select(Invoice)
        .where(
            Invoice.member_id == member_id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status.in_(OPEN),
        )
        .order_by(Invoice.due_date, Invoice.year, Invoice.sequence)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def _settle(invoice: Invoice, amount: Decimal) -> None:
    invoice.amount_paid = invoice.amount_paid + amount
    invoice.status = status_after(
        invoice.total_incl_tax, invoice.amount_paid, invoice.amount_credited
    ).value


def record_payment(
    session: Session,
    *,
    member: Member,
    paid_on: date,
    amount: Decimal,
    method: str = PaymentMethod.TRANSFER.value,
    reference: str = "",
    note: str = "",
    invoices: Sequence[Invoice] | None = None,
    allocations: Mapping[Invoice, Decimal] | None = None,
    import_key: str | None = None,
    today: date | None = None,
) -> Payment:
    """Record money received from ``member`` and settle invoices with it.

    ``allocations`` gives the amount for each invoice (each at most what it still owes);
    ``invoices`` settles them in the order given; with neither, the member's open invoices are
    settled oldest due date first. Whatever is left is **kept as a credit on account** (the
    payment's unallocated part, shown in the balances).

    Refused: a non-positive amount or one with more than two decimals, a date in the future or
    in a closed period, an invoice of another member, a draft, a credit note, a cancelled or
    fully paid invoice named explicitly, an allocation above what an invoice owes, allocations
    adding up to more than the payment.
    """
    today = today or date.today()
    if amount <= ZERO or not is_cents(amount):
        raise PaymentRefused("Le montant du paiement doit être positif, en euros et centimes.")
    amount = amount.quantize(ZERO)
    if paid_on > today:
        raise PaymentRefused(f"Date de paiement dans le futur : {paid_on:%d/%m/%Y}.")
    try:
        method = PaymentMethod(method).value
    except ValueError:
        raise PaymentRefused(f"Mode de paiement inconnu : « {method} ».") from None
    closed = closed_period_containing(session, paid_on)
    if closed is not None:
        raise PaymentRefused(
            f"Le {paid_on:%d/%m/%Y} est dans la période clôturée {closed.label} : le paiement "
            "ne peut pas y être enregistré."
        )
    named = list(allocations) if allocations is not None else list(invoices or [])
    for invoice in named:
        session.refresh(invoice, with_for_update=True)
        _check_payable(invoice, member)
    if allocations is not None:
        plan = _explicit_plan(allocations, amount)
    else:
        targets = named or _open_invoices(session, member.id, lock=True)
        plan = allocate_oldest_first(amount, [(inv, inv.outstanding) for inv in targets])
    payment = Payment(
        member_id=member.id,
        member=member,
        paid_on=paid_on,
        amount=amount,
        method=method,
        reference=reference.strip(),
        note=note.strip(),
        import_key=import_key,
    )
    session.add(payment)
    for invoice, part in plan.items():
        payment.allocations.append(PaymentAllocation(invoice=invoice, amount=part))
        _settle(invoice, part)
    session.flush()
    return payment


def _explicit_plan(
    allocations: Mapping[Invoice, Decimal], amount: Decimal
) -> dict[Invoice, Decimal]:
    """The amounts given per invoice (zeros left out), each at most what the invoice owes and
    together at most the payment."""
    plan: dict[Invoice, Decimal] = {}
    for invoice, part in allocations.items():
        if part is None or part == ZERO:
            continue
        if part < ZERO or not is_cents(part):
            raise PaymentRefused(
                f"Montant affecté à {invoice.number} invalide : {part}."
            )
        if part > invoice.outstanding:
            raise PaymentRefused(
                f"{format_eur(part)} affectés à la facture {invoice.number}, qui ne doit "
                f"plus que {format_eur(invoice.outstanding)}."
            )
        plan[invoice] = part
    if sum(plan.values(), ZERO) > amount:
        raise PaymentRefused(
            f"Les montants affectés ({format_eur(sum(plan.values(), ZERO))}) dépassent le "
            f"paiement ({format_eur(amount)})."
        )
    return plan


def _check_payable(invoice: Invoice, member: Member) -> None:
    if invoice.member_id != member.id:
        raise PaymentRefused(
            f"La facture {invoice.number} est adressée à un autre adhérent que "
            f"{member.code}."
        )
    if invoice.is_draft:
        raise PaymentRefused("Un brouillon de facture ne se paie pas : émettez-le d'abord.")
    if invoice.is_credit_note:
        raise PaymentRefused(f"{invoice.number} est un avoir : il ne se paie pas.")
    if invoice.status == InvoiceStatus.CANCELLED:
        raise PaymentRefused(f"La facture {invoice.number} est annulée par avoir.")
    if invoice.outstanding == ZERO:
        raise PaymentRefused(f"La facture {invoice.number} est déjà entièrement réglée.")


def member_credit(session: Session, member_id: int) -> Decimal:
    """The part of the member's payments not allocated to any invoice."""
    paid = session.scalar(select(money_sum(Payment.amount)).where(Payment.member_id == member_id))
    allocated = session.scalar(
        select(money_sum(PaymentAllocation.amount))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.member_id == member_id)
    )
    return paid - allocated




def apply_member_credit(session: Session, member: Member) -> list[PaymentAllocation]:
    """Settle the member's open invoices (oldest due first) with its credit on account: the
    unallocated parts of its payments, oldest payment first."""
    payments = [
        p
        for p in session.scalars(
            select(Payment)
            .where(Payment.member_id == member.id)
            .order_by(Payment.paid_on, Payment.id)
            .options(selectinload(Payment.allocations))
        )
        if p.unallocated > ZERO
    ]
    made: list[PaymentAllocation] = []
    invoices = _open_invoices(session, member.id, lock=True)
    for payment in payments:
        plan = allocate_oldest_first(
            payment.unallocated, [(inv, inv.outstanding) for inv in invoices]
        )
        existing = {a.invoice_id: a for a in payment.allocations}
        for invoice, part in plan.items():
            if invoice.id in existing:
                existing[invoice.id].amount = existing[invoice.id].amount + part
                made.append(existing[invoice.id])
            else:
                allocation = PaymentAllocation(invoice=invoice, amount=part)
                payment.allocations.append(allocation)
                made.append(allocation)
            _settle(invoice, part)
    session.flush()
    return made


# ============================================================================ reading


@dataclass(frozen=True)
class MemberBalance:
    """What a member was invoiced, credited and paid; ``balance`` > 0: the member owes,
    < 0: the carrier owes the member (credit on account)."""

    member_id: int
    code: str
    name: str
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    overdue: Decimal

    @property
    def balance(self) -> Decimal:
        return self.invoiced - self.credited - self.paid

    @property
    def credit(self) -> Decimal:
        """The credit on account (the member paid more than it owes)."""
        return max(-self.balance, ZERO)


def member_balances(
    session: Session, *, member_id: int | None = None, today: date | None = None
) -> list[MemberBalance]:
    """Balances per member, computed in SQL (three GROUP BY queries, no row per invoice)."""
    today = today or date.today()
    is_invoice = Invoice.kind == InvoiceKind.INVOICE.value
    doc = (
        select(
            Invoice.member_id,
            money_sum(case((is_invoice, Invoice.total_incl_tax), else_=0)),
            money_sum(case((is_invoice, 0), else_=Invoice.total_incl_tax)),
            money_sum(
                case(
                    (
                        is_invoice & Invoice.status.in_(OPEN) & (Invoice.due_date < today),
                        Invoice.total_incl_tax - Invoice.amount_paid - Invoice.amount_credited,
                    ),
                    else_=0,
                )
            ),
        )
        .where(Invoice.status != InvoiceStatus.DRAFT.value)
        .group_by(Invoice.member_id)
    )
    paid = select(Payment.member_id, money_sum(Payment.amount)).group_by(Payment.member_id)
    members = select(Member.id, Member.code, Member.name).order_by(Member.code)
    if member_id is not None:
        doc = doc.where(Invoice.member_id == member_id)
        paid = paid.where(Payment.member_id == member_id)
        members = members.where(Member.id == member_id)
    # Core rows on the session's connection: the ORM's row handling was a third of the time
    # at 1 000 members (issue 16).
    run = session.connection().execute
    docs = {m: (i, c, o) for m, i, c, o in run(doc)}
    paid_by = {m: p for m, p in run(paid)}
    result = []
    for m_id, code, name in run(members):
        if m_id not in docs and m_id not in paid_by:
            continue
        invoiced, credited, overdue = docs.get(m_id, (ZERO, ZERO, ZERO))
        result.append(
            MemberBalance(m_id, code, name, invoiced, credited, paid_by.get(m_id, ZERO), overdue)
        )
    return result


def overdue_invoices(
    session: Session, *, today: date | None = None, member_id: int | None = None
) -> list[Invoice]:
    """Issued invoices past their due date with something left to pay, oldest first."""
    today = today or date.today()
    stmt = (
        select(Invoice)
        .where(
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status.in_(OPEN),
            Invoice.due_date < today,
        )
        .order_by(Invoice.due_date, Invoice.sequence)
    )
    if member_id is not None:
        stmt = stmt.where(Invoice.member_id == member_id)
    return [inv for inv in session.scalars(stmt) if inv.outstanding > ZERO]
