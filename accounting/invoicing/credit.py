"""Credit notes ("avoirs"): full or partial, in the same number series, lowering what the
member owes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceStatus,
    line_vats,
    split_credit,
    status_after,
)
from accounting.invoicing.errors import CreditNoteRefused, PeriodNotInvoiceable
from accounting.invoicing.issue import finalize, lock_series, take_numbers
from accounting.invoicing.models import Invoice, InvoiceLine, money_sum
from accounting.invoicing.parties import get_carrier
from accounting.money import ZERO, is_cents
from accounting.periods import closed_period_containing
from accounting.seal import seal_record


def _set_totals(invoice: Invoice) -> None:
    invoice.total_excl_tax = sum((line.amount_excl_tax for line in invoice.lines), ZERO)
    invoice.total_vat = sum((line.vat_amount for line in invoice.lines), ZERO)
    invoice.total_incl_tax = invoice.total_excl_tax + invoice.total_vat


def _credited_by_line(session: Session, invoice: Invoice) -> dict[int, tuple[Decimal, Decimal]]:
    """original line id → (net, VAT) already credited by issued credit notes."""
    rows = session.execute(
        select(
            InvoiceLine.original_line_id,
            money_sum(InvoiceLine.amount_excl_tax),
            money_sum(InvoiceLine.vat_amount),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.original_id == invoice.id,
            Invoice.status != InvoiceStatus.DRAFT.value,
        )
        .group_by(InvoiceLine.original_line_id)
    )
    return {line_id: (net, vat) for line_id, net, vat in rows}


def creditable(session: Session, invoice: Invoice) -> Decimal:
    """What is left to credit on an invoice, excluding tax."""
    done = _credited_by_line(session, invoice)
    return sum(
        (line.amount_excl_tax - done.get(line.id, (ZERO, ZERO))[0] for line in invoice.lines),
        ZERO,
    )


def create_credit_note(
    session: Session,
    invoice: Invoice,
    *,
    reason: str,
    amount: Decimal | None = None,
    issue_date: date | None = None,
    issued_by: str = "",
) -> Invoice:
    """Issue a credit note ("avoir") on ``invoice``: in full (``amount`` None: everything not yet
    credited, VAT reversed exactly), or partial (``amount`` excl. tax, spread over the lines in
    proportion to what is left of each, VAT per rate). It takes the next number of the same
    series, cites the invoice's number and date, and lowers what the member owes.

    Refused: a draft or a credit note as original, no reason, a non-positive amount, an amount
    above what is left to credit.
    """
    reason = _checked_reason(invoice, reason, amount)
    issue_date = issue_date or date.today()
    _refuse_closed_day(session, issue_date)
    carrier = get_carrier(session)
    series = lock_series(session, carrier.id, issue_date.year)
    session.refresh(invoice)  # after the lock: what other credit notes did is visible
    if invoice.status == InvoiceStatus.CANCELLED:
        raise CreditNoteRefused(
            f"La facture {invoice.number} est déjà entièrement annulée par avoir."
        )
    done = _credited_by_line(session, invoice)
    remaining = {
        line.id: (
            line.amount_excl_tax - done.get(line.id, (ZERO, ZERO))[0],
            line.vat_amount - done.get(line.id, (ZERO, ZERO))[1],
        )
        for line in invoice.lines
    }
    if amount is None:
        nets = {k: net for k, (net, _) in remaining.items()}
        if all(net == ZERO for net in nets.values()):
            raise CreditNoteRefused(f"Plus rien à créditer sur la facture {invoice.number}.")
    else:
        nets = split_credit(amount, {k: net for k, (net, _) in remaining.items()})
    note = _credit_note(invoice, carrier.id, reason, nets, remaining)
    session.add(note)
    session.flush()
    (sequence,) = take_numbers(series, issue_date, 1)
    finalize(note, carrier, issue_date.year, sequence, issue_date, issued_by)
    invoice.amount_credited = invoice.amount_credited + note.total_incl_tax
    invoice.status = status_after(
        invoice.total_incl_tax, invoice.amount_paid, invoice.amount_credited
    ).value
    session.flush()
    seal_record(session, Invoice.__tablename__, note.id, "credit_note")
    record_audit(
        session, "credit", Invoice.__tablename__, note.id,
        after={"number": note.number, "original": invoice.number, "reason": reason,
               "total": note.total_incl_tax},
    )
    return note


def _checked_reason(invoice: Invoice, reason: str, amount: Decimal | None) -> str:
    """The reason, stripped, once the request is acceptable before any lock is taken."""
    if invoice.is_credit_note:
        raise CreditNoteRefused("Un avoir ne s'annule pas par un autre avoir.")
    if invoice.is_draft:
        raise CreditNoteRefused(
            "Cette facture est un brouillon : elle se supprime, un avoir n'a pas lieu d'être."
        )
    reason = (reason or "").strip()
    if not reason:
        raise CreditNoteRefused("Indiquez le motif de l'avoir : il figure sur le document.")
    if amount is not None and (amount <= ZERO or not is_cents(amount)):
        raise CreditNoteRefused(
            "Le montant de l'avoir doit être positif, en euros et centimes."
        )
    return reason


def _credit_note(
    invoice: Invoice, carrier_id: int, reason: str, nets: Mapping[int, Decimal],
    remaining: Mapping[int, tuple[Decimal, Decimal]],
) -> Invoice:
    """The draft credit note crediting ``nets`` (original line id → net) of ``invoice``, with
    its lines, their VAT and its totals."""
    originals = {line.id: line for line in invoice.lines}
    keys = [k for k in nets if nets[k] != ZERO]
    specs = [(originals[k].vat_regime, originals[k].vat_rate, nets[k]) for k in keys]
    vats = line_vats(specs)
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE.value,
        status=InvoiceStatus.DRAFT.value,
        carrier_id=carrier_id,
        member_id=invoice.member_id,
        member=invoice.member,
        period_id=invoice.period_id,
        original_id=invoice.id,
        reason=reason,
        service_start=invoice.service_start,
        service_end=invoice.service_end,
    )
    for position, (key, vat) in enumerate(zip(keys, vats, strict=True), start=1):
        original = originals[key]
        left_net, left_vat = remaining[key]
        # Crediting all that is left of a line reverses its VAT exactly (no cent drifts away).
        vat = left_vat if nets[key] == left_net else min(vat, left_vat)
        note.lines.append(
            InvoiceLine(
                position=position,
                service_id=original.service_id,
                original_line_id=original.id,
                designation=original.designation,
                revenue_account=original.revenue_account,
                amount_excl_tax=nets[key],
                vat_regime=original.vat_regime,
                vat_rate=original.vat_rate,
                vat_amount=vat,
                basis=original.basis,
            )
        )
    _set_totals(note)
    return note


def _refuse_closed_day(session: Session, day: date) -> None:
    closed = closed_period_containing(session, day)
    if closed is not None:
        raise PeriodNotInvoiceable(
            f"Le {day:%d/%m/%Y} est dans la période clôturée {closed.label} : choisissez une "
            "date dans une période ouverte."
        )
