"""Issuing the drafts of a period: the carrier's number series (locked, chronological), the
due date, the parties' identities frozen on the document; finding a document by number.
Drafts of both kinds are issued (a correction's credit notes lower the invoice they cite);
after the lock, the drafts must still be the period's differences, and issuing locks the
period again (``accounting.invoicing.locks``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accounting.allocation.models import AllocationLine, AllocationRun
from accounting.allocation.runs import approved_run_services
from accounting.audit import record_audit
from accounting.db import lock_counter_row, utcnow
from accounting.invoicing.amounts import InvoiceStatus, due_date, format_number, status_after
from accounting.invoicing.differences import (
    approved_amounts,
    called_services,
    differences,
    documented_amounts,
    draft_amounts,
    without_services,
)
from accounting.invoicing.errors import (
    AllocationNotApproved,
    AlreadyInvoiced,
    InvoicingError,
    NothingToInvoice,
    NumberingError,
)
from accounting.invoicing.locks import close_corrections
from accounting.invoicing.models import Invoice, InvoiceSequence
from accounting.invoicing.parties import check_mentions, get_carrier, snapshot
from accounting.invoicing.period_state import already_invoiced, live_invoices, refuse_closed
from accounting.money import ZERO
from accounting.org import Carrier, Member
from accounting.periods import Period, hold_periods
from accounting.seal import seal_records


def lock_series(session: Session, carrier_id: int, year: int) -> InvoiceSequence:
    """The counter row of (carrier, year), created if missing, locked until the transaction
    ends."""
    return lock_counter_row(session, InvoiceSequence, carrier_id=carrier_id, year=year)


def take_numbers(series: InvoiceSequence, issue_date: date, count: int) -> list[int]:
    """``count`` consecutive numbers of a locked series, dated ``issue_date`` (never earlier
    than the last one: the series stays chronological)."""
    if series.last_issued_on is not None and issue_date < series.last_issued_on:
        raise NumberingError(
            f"Date refusée : le dernier document de la série {series.year} est daté du "
            f"{series.last_issued_on:%d/%m/%Y}. La numérotation doit rester chronologique : "
            "choisissez une date égale ou postérieure."
        )
    first = series.last_number + 1
    series.last_number += count
    series.last_issued_on = issue_date
    return list(range(first, first + count))


def finalize(
    invoice: Invoice, carrier: Carrier, year: int, sequence: int, issue_date: date,
    issued_by: str,
) -> None:
    snapshot(invoice, invoice.member, carrier)
    invoice.year = year
    invoice.sequence = sequence
    invoice.number = format_number(year, sequence)
    invoice.issue_date = issue_date
    invoice.due_date = due_date(issue_date, carrier.payment_terms_days)
    invoice.issued_at = utcnow()
    invoice.issued_by = issued_by
    invoice.status = InvoiceStatus.ISSUED.value


def issue_invoices(
    session: Session,
    period: Period,
    *,
    issue_date: date | None = None,
    invoice_ids: Iterable[int] | None = None,
    issued_by: str = "",
) -> list[Invoice]:
    """Issue the drafts of ``period`` (all, or those of ``invoice_ids``): each gets the next
    number of the carrier's series for the year of ``issue_date`` (today by default), in
    member-code order, its due date and the parties' identities as they are now.

    The series is locked first, so that two people issuing at once wait for each other and
    the second one sees what the first did (a period is never issued twice). Returns the
    issued invoices; the ledger posts them in the same transaction.
    """
    issue_date = issue_date or date.today()
    # First: no work, cost or subsidy lands in the period meanwhile (taken before any shared
    # hold of this transaction, which two issuers could not both upgrade: a deadlock)
    hold_periods(session, exclusive=True)
    refuse_closed(session, period, issue_date)
    carrier = get_carrier(session)
    series = lock_series(session, carrier.id, issue_date.year)
    wanted = set(invoice_ids) if invoice_ids is not None else None
    drafts = _drafts_to_issue(session, period, wanted)
    if not drafts:
        live = live_invoices(session, period)
        if live:
            raise already_invoiced(period, live)
        raise NothingToInvoice(
            f"Aucun brouillon à émettre pour {period.label} : préparez d'abord les factures."
        )
    _check_drafts_current(session, period, carrier, drafts)
    _check_runs_still_approved(session, drafts)
    members = session.scalars(
        select(Member)
        .where(Member.id.in_({d.member_id for d in drafts}))
        .execution_options(populate_existing=True)
    ).all()
    by_id = {m.id: m for m in members}
    for d in drafts:
        d.member = by_id[d.member_id]
    check_mentions(carrier, drafts)
    numbers = take_numbers(series, issue_date, len(drafts))
    for invoice, sequence in zip(drafts, numbers, strict=True):
        finalize(invoice, carrier, issue_date.year, sequence, issue_date, issued_by)
        if invoice.is_credit_note and invoice.original_id is not None:
            _credit_original(session, invoice)
    session.flush()
    close_corrections(session, period)  # the period is locked again
    seal_records(session, Invoice.__tablename__, [d.id for d in drafts], "issue")
    record_audit(
        session, "issue", Invoice.__tablename__, None,
        after={"period": period.code, "numbers": [d.number for d in drafts],
               "issue_date": issue_date},
    )
    return drafts


def _drafts_to_issue(
    session: Session, period: Period, wanted: set[int] | None
) -> list[Invoice]:
    """The drafts of ``period`` (those of ``wanted`` ids only, when given), in member-code
    order, read afresh after the series lock."""
    return [
        d
        for d in session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id, Invoice.status == InvoiceStatus.DRAFT.value
            )
            .order_by(Invoice.customer_code, Invoice.id)
            .options(selectinload(Invoice.lines), selectinload(Invoice.member))
            .execution_options(populate_existing=True)
        )
        if wanted is None or d.id in wanted
    ]


def _check_drafts_current(
    session: Session, period: Period, carrier: Carrier, drafts: Sequence[Invoice]
) -> None:
    """After the series lock: the drafts still are the differences between the approved run
    and the documents issued now (two people issuing at once: the second one is refused)."""
    run_services = approved_run_services(session, period)
    if not run_services:  # drafts not prepared from an allocation: nothing to compare with
        return
    called = called_services(session, period)  # invoiced by calls and the true-up
    approved = without_services(
        approved_amounts(session, run_services, exclude_member=carrier.member_id), called)
    owed = differences(
        {pair: line.amount for pair, line in approved.items()},
        without_services(documented_amounts(session, period), called),
    )
    members = {d.member_id for d in drafts}
    expected = {(m, s): v for m, row in owed.items() if m in members for s, v in row.items()}
    if draft_amounts(list(drafts)) != expected:
        raise AlreadyInvoiced(
            f"Les documents de {period.label} ont changé depuis la préparation de ces "
            "brouillons (une autre émission, un avoir ou une nouvelle répartition approuvée) : "
            "préparez-les à nouveau."
        )


def _credit_original(session: Session, note: Invoice) -> None:
    """A correction's credit note lowers what the cited invoice still asks (never below
    zero: beyond it, it is the member's credit); payments stay on the invoices they paid."""
    original = session.get(Invoice, note.original_id)
    assert original is not None
    room = max(original.total_incl_tax - original.amount_credited, ZERO)
    credited = min(max(note.total_incl_tax, ZERO), room)
    if credited:
        original.amount_credited = original.amount_credited + credited
        original.status = status_after(
            original.total_incl_tax, original.amount_paid, original.amount_credited
        ).value


def _check_runs_still_approved(session: Session, drafts: Sequence[Invoice]) -> None:
    ids = {line.allocation_line_id for d in drafts for line in d.lines}
    ids.discard(None)
    if not ids:
        return
    unapproved = session.scalar(
        select(func.count(AllocationLine.id))
        .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
        .where(AllocationLine.id.in_(ids), AllocationRun.status != "approved")
    )
    if unapproved:
        raise AllocationNotApproved(
            "Ces brouillons viennent d'une répartition qui n'est plus approuvée : préparez-les "
            "à nouveau sur la répartition approuvée."
        )


def invoice_by_number(session: Session, number: str) -> Invoice:
    """The issued document of that number, or a clear refusal."""
    invoice = session.scalars(select(Invoice).where(Invoice.number == number.strip())).first()
    if invoice is None:
        raise InvoicingError(f"Aucune facture ni avoir n'a le numéro « {number} ».")
    return invoice
