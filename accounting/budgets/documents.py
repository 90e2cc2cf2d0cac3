"""Drafting and issuing the documents of the year's cash — calls for funds and true-ups —
with the invoicing area's own pieces: same series (locked, gapless, chronological), same
mentions and VAT rules, same Core bulk inserts, same seals and ledger posting.

A call's lines credit 4191 (advances received, ``ADVANCES_ACCOUNT``); a true-up's lines credit
the service's revenue account. Neither goes through ``issue_invoices``: that one checks the
drafts against the period's approved run, which a call has not (it is on account) and which a
true-up reads differently (the year's run against calls and earlier true-ups).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.db import utcnow
from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceRole,
    InvoiceStatus,
    line_vats,
    vat_rate_for,
)
from accounting.invoicing.differences import DocumentPlan
from accounting.invoicing.errors import MissingIdentity
from accounting.invoicing.issue import finalize, lock_series, take_numbers
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.parties import (
    check_mentions,
    get_carrier,
    identities,
    missing_mentions,
    resolve_vat_regime,
    vat_regimes,
)
from accounting.invoicing.prepare import _insert_drafts, _row
from accounting.ledger.posting import post_issued
from accounting.money import ZERO
from accounting.org import Carrier, Member, Service, VatRegime
from accounting.periods import Period
from accounting.seal import seal_records


@dataclass(frozen=True)
class Drafting:
    """What every document of one batch shares: its period, role, dates of service, reason,
    and how a line is worded and annexed (``describe(member, service, amount)`` →
    (designation, basis))."""

    period: Period
    role: InvoiceRole
    service_start: date
    service_end: date
    reason: str
    account: Callable[[Service], str]
    describe: Callable[[Member, Service, Decimal], tuple[str, dict[str, Any]]]


def draft_documents(
    session: Session, plans: Sequence[DocumentPlan[int, int]], drafting: Drafting
) -> list[Invoice]:
    """One draft per plan (member), one line per service; refused with the missing mentions."""
    carrier = get_carrier(session)
    members = {m.id: m for m in session.scalars(
        select(Member).where(Member.id.in_({p.member for p in plans})))}
    services = {s.id: s for s in session.scalars(
        select(Service).where(Service.id.in_({s for p in plans for s in p.lines})))}
    rules = vat_regimes(session, carrier, members)
    now = utcnow()
    invoice_rows: list[dict[str, Any]] = []
    line_rows: dict[int, list[dict[str, Any]]] = {}
    for plan in sorted(plans, key=lambda p: members[p.member].code):
        member = members[plan.member]
        ordered = sorted(plan.lines, key=lambda sid: services[sid].code)
        specs = []
        for service_id in ordered:
            regime = resolve_vat_regime(rules, carrier.vat_regime, member.id, service_id)
            specs.append((regime, vat_rate_for(regime), plan.lines[service_id]))
        rows = []
        for position, (service_id, (regime, rate, base), vat) in enumerate(
            zip(ordered, specs, line_vats(specs), strict=True), start=1
        ):
            service = services[service_id]
            designation, basis = drafting.describe(member, service, plan.lines[service_id])
            rows.append(_row(InvoiceLine, {
                "position": position, "service_id": service_id, "allocation_line_id": None,
                "designation": designation, "revenue_account": drafting.account(service),
                "amount_excl_tax": base, "vat_regime": regime, "vat_rate": rate,
                "vat_amount": vat, "basis": basis,
            }))  # fmt: skip
        line_rows[member.id] = rows
        invoice_rows.append(_document_row(carrier, drafting, plan, member, rows, now))
    missing = missing_mentions(
        carrier, members.values(),
        needs_vat_number=any(r["vat_regime"] == VatRegime.STANDARD
                             for rows in line_rows.values() for r in rows),
    )  # fmt: skip
    if missing:
        raise MissingIdentity(missing)
    if not invoice_rows:
        return []
    return _insert_drafts(session, invoice_rows, line_rows)


def _document_row(
    carrier: Carrier, drafting: Drafting, plan: DocumentPlan[int, int], member: Member,
    rows: Sequence[dict[str, Any]], now: Any,
) -> dict[str, Any]:
    total_excl_tax = sum((row["amount_excl_tax"] for row in rows), ZERO)
    total_vat = sum((row["vat_amount"] for row in rows), ZERO)
    return _row(Invoice, {
        "kind": plan.kind.value, "role": drafting.role.value,
        "status": InvoiceStatus.DRAFT.value, "carrier_id": carrier.id, "member_id": member.id,
        "period_id": drafting.period.id, "original_id": None, "corrects_id": None,
        "reason": drafting.reason, "service_start": drafting.service_start,
        "service_end": drafting.service_end, **identities(member, carrier),
        "total_excl_tax": total_excl_tax, "total_vat": total_vat,
        "total_incl_tax": total_excl_tax + total_vat, "created_at": now,
    })  # fmt: skip


def issue_documents(
    session: Session, drafts: Sequence[Invoice], issue_date: date, issued_by: str, what: str
) -> list[Invoice]:
    """Number the drafts in the carrier's series (locked), freeze the parties, seal, audit and
    post them (sales journal). The series must already be locked by the caller's transaction
    or is locked here."""
    if not drafts:
        return []
    carrier = get_carrier(session)
    series = lock_series(session, carrier.id, issue_date.year)
    ordered = sorted(drafts, key=lambda d: (d.customer_code, d.id))
    members = {m.id: m for m in session.scalars(
        select(Member).where(Member.id.in_({d.member_id for d in ordered})))}
    for draft in ordered:
        draft.member = members[draft.member_id]
    check_mentions(carrier, ordered)
    numbers = take_numbers(series, issue_date, len(ordered))
    for invoice, sequence in zip(ordered, numbers, strict=True):
        finalize(invoice, carrier, issue_date.year, sequence, issue_date, issued_by)
    session.flush()
    seal_records(session, Invoice.__tablename__, [d.id for d in ordered], "issue")
    record_audit(
        session, "issue", Invoice.__tablename__, None,
        after={"what": what, "numbers": [d.number for d in ordered],
               "issue_date": issue_date},
    )  # fmt: skip
    post_issued(session, ordered)
    return ordered


def plan_kind(member: int, lines: dict[int, Decimal]) -> DocumentPlan[int, int]:
    """An invoice when the member's total is ≥ 0, else a credit note of the opposite lines."""
    if sum(lines.values(), ZERO) >= ZERO:
        return DocumentPlan(member, InvoiceKind.INVOICE, lines)
    return DocumentPlan(member, InvoiceKind.CREDIT_NOTE, {s: -v for s, v in lines.items()})
