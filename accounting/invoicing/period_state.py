"""What a period's invoicing already holds: its live invoices, and the refusals that follow
(a closed period, a period already invoiced). Reopening an invoiced period opens it for
correction instead (``accounting.invoicing.locks``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.invoicing.amounts import InvoiceKind, InvoiceRole, InvoiceStatus
from accounting.invoicing.errors import AlreadyInvoiced, PeriodNotInvoiceable
from accounting.invoicing.models import Invoice
from accounting.periods import Period, closed_period_containing

#: Statuses of an invoice that still counts (not a draft, not cancelled by credit notes).
LIVE = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value, InvoiceStatus.PAID.value)
#: Statuses of an invoice that may still receive money.


def live_invoices(session: Session, period: Period) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id,
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status.in_(LIVE),
                Invoice.role != InvoiceRole.CALL.value,
            )
            .order_by(Invoice.sequence)
        )
    )


def already_invoiced(period: Period, invoices: Sequence[Invoice]) -> AlreadyInvoiced:
    numbers = [inv.number for inv in invoices if inv.number]
    shown = numbers[0] if len(numbers) == 1 else f"{numbers[0]} à {numbers[-1]}"
    return AlreadyInvoiced(
        f"La période {period.label} est déjà facturée ({len(numbers)} facture"
        f"{'s' if len(numbers) > 1 else ''} : {shown}). Une facture émise ne se refait pas : "
        "un avoir l'annule, puis la période peut être refacturée pour cet adhérent."
    )


def refuse_closed(session: Session, period: Period, day: date | None = None) -> None:
    if period.is_closed:
        raise PeriodNotInvoiceable(
            f"La période {period.label} est clôturée : plus aucune facture ne peut y être "
            "préparée ni émise."
        )
    if day is not None:
        closed = closed_period_containing(session, day)
        if closed is not None:
            raise PeriodNotInvoiceable(
                f"Le {day:%d/%m/%Y} est dans la période clôturée {closed.label} : choisissez "
                "une date de facture dans une période ouverte."
            )


def period_has_issued_invoices(session: Session, period: Period) -> bool:
    """True when an invoice or credit note of the period has a number (its documents are
    final: a correction adds documents, it never changes these)."""
    return bool(
        session.scalar(
            select(func.count(Invoice.id)).where(
                Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT.value,
                Invoice.role != InvoiceRole.CALL.value,
            )
        )
    )

