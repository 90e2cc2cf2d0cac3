"""The safety net: post the final documents that have no entry yet.

Why: invoices, payments and costs are written by several paths (screens, CLI, imports, the
demo generator, other areas' code); each should post its entry in its own transaction, and the
ledger screen shows here what is missing, with one action to post it all, so the books never
silently lack a document.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from accounting.cost_models import Cost, Subsidy
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.models import Invoice, Payment
from accounting.ledger.cost_posting import post_cost
from accounting.ledger.models import JournalEntry
from accounting.ledger.posting import (
    is_live,
    post_invoice,
    post_payment,
    sealed_in_one_batch,
)


def _unposted(model: Any, source: str, *where: Any) -> Any:
    """The rows of ``model`` (a final document) that have no live entry."""
    posted = exists().where(
        and_(JournalEntry.source_type == source, JournalEntry.source_id == model.id, is_live())
    )
    return (*where, ~posted)


def _kinds() -> dict[str, tuple[Any, ...]]:
    issued = Invoice.status != InvoiceStatus.DRAFT.value
    return {
        "invoice": (Invoice, "invoice", issued, Invoice.kind == InvoiceKind.INVOICE.value),
        "credit_note": (Invoice, "credit_note", issued,
                        Invoice.kind == InvoiceKind.CREDIT_NOTE.value),
        "payment": (Payment, "payment"),
        "cost": (Cost, "cost"),
        "subsidy": (Subsidy, "subsidy"),
    }  # fmt: skip


def unposted_documents(session: Session) -> dict[str, list[Any]]:
    """Final documents without a live entry: issued invoices and credit notes, payments,
    costs and subsidies (each list by id)."""
    return {
        kind: list(session.scalars(
            select(model).where(*_unposted(model, source, *where)).order_by(model.id)
        ))
        for kind, (model, source, *where) in _kinds().items()
    }  # fmt: skip


def unposted_counts(session: Session) -> dict[str, int]:
    """How many documents of each kind :func:`unposted_documents` would return, counted by
    the database: the journal page shows the counts on every visit, and loading the documents
    themselves cost it most of its time when many were pending."""
    counts = session.execute(_counts_statement()).one()
    return {kind: count or 0 for kind, count in zip(_kinds(), counts, strict=True)}


@cache
def _counts_statement() -> Select[Any]:
    """The five counts in one statement, built once: five statements built and sent on every
    visit of the journal page were half of its time."""
    return select(*(
        select(func.count()).select_from(model).where(*_unposted(model, source, *where))
        .scalar_subquery()
        for model, source, *where in _kinds().values()
    ))  # fmt: skip


def post_missing(session: Session) -> int:
    """Post every final document that has no entry yet; returns how many entries were written
    (invoices and credit notes in number order, then payments, costs and subsidies by id)."""
    count = 0
    pending = unposted_documents(session)
    documents = sorted(pending["invoice"] + pending["credit_note"],
                       key=lambda doc: (doc.year, doc.sequence))  # fmt: skip
    with sealed_in_one_batch(session):  # the entries' seals in one batch (hash chain)
        for document in documents:
            count += post_invoice(session, document) is not None
        for payment in pending["payment"]:
            post_payment(session, payment)
            count += 1
        for line in pending["cost"] + pending["subsidy"]:
            post_cost(session, line)
            count += 1
    return count
