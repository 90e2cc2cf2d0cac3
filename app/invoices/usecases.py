"""The invoicing use cases as the web and the CLI run them: the domain act, then the ledger's
posting of it, in the same transaction (the caller commits once; an error rolls both back).

Ledger (issue 6): each function posts the journal entries of the documents or payments the
domain returned (``accounting.ledger.posting``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounting.invoicing.amounts import InvoiceStatus
from accounting.invoicing.dating import check_issue_date
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation
from accounting.invoicing.payments import apply_member_credit, record_payment
from accounting.invoicing.services import create_credit_note, issue_invoices
from accounting.ledger.lettering import letter_accounts
from accounting.ledger.posting import (
    post_credit_note,
    post_issued,
    post_payment,
    sealed_in_one_batch,
)
from accounting.org import Member
from accounting.periods import Period
from imports.payments import PaymentPreview, import_payments


def issue_period(
    session: Session, period: Period, *, issue_date: date | None = None, issued_by: str = "",
    invoice_ids: list[int] | None = None, confirm_year: bool = True,
) -> list[Invoice]:
    """Issue the drafts of a period (and post their sales entries). An issue date in a later
    fiscal year than the period is refused unless ``confirm_year`` (the pages and the CLI
    pass what the user confirmed; ``accounting.invoicing.dating``)."""
    check_issue_date(
        session, period, issue_date or date.today(), confirmed=confirm_year
    )
    invoices = issue_invoices(
        session, period, issue_date=issue_date, issued_by=issued_by, invoice_ids=invoice_ids
    )
    post_issued(session, invoices)  # the sales journal (VT) entry of each invoice
    return invoices


def credit_invoice(
    session: Session, invoice: Invoice, *, reason: str, amount: Decimal | None = None,
    issue_date: date | None = None, issued_by: str = "",
) -> Invoice:
    """Issue a credit note on an invoice (and post its reversing sales entry)."""
    note = create_credit_note(
        session, invoice, reason=reason, amount=amount, issue_date=issue_date,
        issued_by=issued_by,
    )
    post_credit_note(session, note)  # its reversing sales journal (VT) entry
    letter_accounts(session, [note.member_id])  # an invoice cancelled by its note: lettered
    return note


def pay(session: Session, **kwargs: Any) -> Payment:
    """Record a payment (and post its bank entry); see ``record_payment`` for the arguments."""
    payment = record_payment(session, **kwargs)
    post_payment(session, payment)  # its bank journal (BQ) entry
    letter_accounts(session, [payment.member_id])  # settled invoices and payments lettered
    return payment


def use_member_credit(session: Session, member: Member) -> list[PaymentAllocation]:
    """Settle open invoices with the member's credit on account (and letter what is
    settled)."""
    made = apply_member_credit(session, member)
    letter_accounts(session, [member.id])
    return made


def import_statement(
    session: Session, data: bytes, filename: str, *, today: date | None = None
) -> PaymentPreview:
    """Import a bank statement (and post a bank entry per payment recorded)."""
    preview = import_payments(session, data, filename, today=today)
    with sealed_in_one_batch(session):  # their seals in one batch (hash chain)
        for payment in preview.recorded:
            post_payment(session, payment)  # the bank journal (BQ) entry of each payment
    letter_accounts(session, {payment.member_id for payment in preview.recorded})
    return preview


def period_documents(session: Session, period: Period) -> list[Invoice]:
    """The period's issued invoices and credit notes in number order (lines and corrected
    invoice loaded): what its ZIP holds, on the page and from ``mutualise export invoices``."""
    return list(session.scalars(
        select(Invoice)
        .where(Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.year, Invoice.sequence)
        .options(selectinload(Invoice.lines), selectinload(Invoice.original))
    ))


def write_period_zip(documents: list[Invoice], target: IO[bytes]) -> int:
    """The period's ZIP, the same from the page and the command: each document's workbook and
    its Factur-X PDF side by side (:func:`accounting.facturx.pdf.write_documents_zip`).
    Returns how many documents it holds."""
    from accounting.facturx.pdf import write_documents_zip

    return write_documents_zip(documents, target)
