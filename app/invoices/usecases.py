"""The invoicing use cases as the web and the CLI run them: the domain act, then the ledger's
posting of it, in the same transaction (the caller commits once; an error rolls both back).

Ledger (issue 6): each function posts the journal entries of the documents or payments the
domain returned (``accounting.ledger.posting``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from accounting.invoicing.dating import check_issue_date
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.payments import record_payment
from accounting.invoicing.services import create_credit_note, issue_invoices
from accounting.ledger.posting import (
    post_credit_note,
    post_issued,
    post_payment,
    sealed_in_one_batch,
)
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
    return note


def pay(session: Session, **kwargs: Any) -> Payment:
    """Record a payment (and post its bank entry); see ``record_payment`` for the arguments."""
    payment = record_payment(session, **kwargs)
    post_payment(session, payment)  # its bank journal (BQ) entry
    return payment


def import_statement(
    session: Session, data: bytes, filename: str, *, today: date | None = None
) -> PaymentPreview:
    """Import a bank statement (and post a bank entry per payment recorded)."""
    preview = import_payments(session, data, filename, today=today)
    with sealed_in_one_batch(session):  # their seals in one batch (hash chain)
        for payment in preview.recorded:
            post_payment(session, payment)  # the bank journal (BQ) entry of each payment
    return preview
