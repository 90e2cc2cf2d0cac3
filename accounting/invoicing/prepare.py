"""Preparing the draft documents of a period from its approved allocation (one per member with
a difference, one line per service, the annex of the figures), the drafts' list and their
deletion. After a correction, only the differences are prepared (invariant 10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from accounting.allocation.engine import MemberShare
from accounting.allocation.keys import (
    Key,
    describe_basis_fr,
    describe_key_fr,
    format_basis_value_fr,
    parse_key,
)
from accounting.allocation.models import AllocationLine, AllocationRun, AllocationRunService
from accounting.allocation.runs import approved_run_services, line_share
from accounting.audit import record_audit, record_audits, snapshot_values
from accounting.db import utcnow
from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceStatus,
    format_eur,
    line_vats,
    vat_rate_for,
)
from accounting.invoicing.differences import (
    DocumentPlan,
    approved_amounts,
    called_services,
    cited_invoices,
    differences,
    documented_amounts,
    plan_documents,
    without_services,
)
from accounting.invoicing.errors import (
    AllocationNotApproved,
    MissingIdentity,
    NothingToInvoice,
)
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.invoicing.parties import (
    get_carrier,
    identities,
    missing_mentions,
    resolve_vat_regime,
    vat_regimes,
)
from accounting.invoicing.period_state import already_invoiced, live_invoices, refuse_closed
from accounting.money import ZERO
from accounting.org import Carrier, Member, Service, VatRegime
from accounting.periods import Period


def _annex(
    run_service: AllocationRunService, line: AllocationLine, period: Period, share: MemberShare,
    key: Key,
) -> dict[str, Any]:
    """The figures behind an invoice line, as the annex shows them (plain JSON)."""
    parts = []
    for part in share.parts:
        parts.append(
            {
                "text": part.describe_fr(),
                "basis": describe_basis_fr(part.part_basis),
                "weight": str(part.weight),
                "common": part.common,
                "value": format_basis_value_fr(part.basis, part.value),
                "total": format_basis_value_fr(part.basis, part.total, total=True),
                "share_percent": str(part.share_percent),
                "pool": str(_decimal(part.pool, 2)),
                "exact": str(_decimal(part.exact, 6)),
            }
        )
    return {
        "run_id": run_service.run_id,
        "period": period.label,
        "key": run_service.key_text,
        "key_fr": describe_key_fr(key),
        "costs": str(run_service.costs),
        "subsidies": str(run_service.subsidies),
        "overheads": str(run_service.overheads),
        "pool": str(run_service.pool),
        "active_days": share.active_days,
        "exact": str(share.exact_decimal),
        "adjustment": str(line.adjustment),
        "amount": str(line.amount),
        "parts": parts,
    }


def _decimal(value: Any, places: int) -> Decimal:
    from accounting.allocation.engine import to_decimal

    return to_decimal(value, places)


def _designation(service: Service, period: Period, key: Key, share: MemberShare) -> str:
    """« Comptabilité / gestion — T1 2026 — 25 % part égale + 75 % au prorata des heures
    (30 h sur 60 h) »."""
    return f"{service.name} — {period.label} — {describe_key_fr(key, share)}"


def prepare_invoices(
    session: Session, period: Period, *, run: AllocationRun | None = None
) -> list[Invoice]:
    """Build the draft documents of ``period`` from its approved allocation (replacing the
    drafts prepared before): per member, what the approved run gives minus what the period's
    issued documents already say, per service (``accounting.invoicing.differences``) — a first
    invoice, a supplementary invoice citing the earlier one, or a credit note (citing the
    earlier invoice when there is one; a negative allocation gives a credit note too, never a
    refusal). None for the carrier's own member, one line per service.

    Refused: a closed period; no approved allocation (or ``run`` given and not approved); a
    period whose documents already add up to the approved run; missing mandatory mentions (the
    message lists what to complete).
    """
    refuse_closed(session, period)
    carrier = get_carrier(session)
    run_services = _run_services_to_invoice(session, period, run)
    called = called_services(session, period)  # invoiced by calls and the true-up
    approved = without_services(
        approved_amounts(session, run_services, exclude_member=carrier.member_id), called)
    documented = without_services(documented_amounts(session, period), called)
    plans = plan_documents(differences(
        {pair: line.amount for pair, line in approved.items()}, documented
    ))  # fmt: skip
    if not plans:
        live = live_invoices(session, period)
        if live:
            raise already_invoiced(period, live)
        raise NothingToInvoice(
            f"Rien à facturer pour {period.label} : la répartition approuvée ne donne aucun "
            "montant aux adhérents (hors structure porteuse)."
        )
    context = _Context(
        period, carrier,
        members={m.id: m for m in session.scalars(
            select(Member).where(Member.id.in_({plan.member for plan in plans})))},
        services={s.id: s for s in session.scalars(
            select(Service).where(Service.id.in_({s for p in plans for s in p.lines})))},
        approved=approved, documented=documented, cited=cited_invoices(session, period),
        by_pair={(rs.run_id, rs.service_id): rs for rs in run_services},
        periods={rs.run_id: rs.run.period for rs in run_services},
    )  # fmt: skip
    rules = vat_regimes(session, carrier, context.members)
    _delete_drafts(session, period)

    # Rows, not ORM objects: the unit of work inserts invoices and lines one row at a time on
    # SQLite (it needs each new id) and 1 000 drafts took seconds; Core inserts them in a few
    # multi-row statements, and the audit records what the session hook would have.
    now = utcnow()
    invoice_rows: list[dict[str, Any]] = []
    line_rows: dict[int, list[dict[str, Any]]] = {}
    for plan in sorted(plans, key=lambda p: context.members[p.member].code):
        member = context.members[plan.member]
        ordered = sorted(plan.lines, key=lambda sid: context.services[sid].code)
        specs = []
        for service_id in ordered:
            regime = resolve_vat_regime(rules, carrier.vat_regime, member.id, service_id)
            specs.append((regime, vat_rate_for(regime), plan.lines[service_id]))
        rows = _line_rows(context, member, ordered, specs)
        line_rows[member.id] = rows
        invoice_rows.append(_invoice_row(context, plan, member, rows, now))
    missing = missing_mentions(
        carrier, context.members.values(),
        needs_vat_number=any(
            row["vat_regime"] == VatRegime.STANDARD for rows in line_rows.values() for row in rows
        ),
    )  # fmt: skip
    if missing:
        raise MissingIdentity(missing)
    drafts = _insert_drafts(session, invoice_rows, line_rows)
    record_audit(
        session, "prepare", Invoice.__tablename__, None,
        after={"period": period.code, "drafts": len(drafts),
               "total": sum((d.total_incl_tax for d in drafts), ZERO)},
    )
    return drafts


@dataclass
class _Context:
    """What every draft of one preparation reads."""

    period: Period
    carrier: Carrier
    members: dict[int, Member]
    services: dict[int, Service]
    approved: dict[tuple[int, int], AllocationLine]
    documented: dict[tuple[int, int], Decimal]
    cited: dict[int, Invoice]
    by_pair: dict[tuple[int, int], AllocationRunService]
    periods: dict[int, Period]
    keys: dict[str, Key] = field(default_factory=dict)


def _delete_drafts(session: Session, period: Period) -> None:
    """Drop the drafts prepared before for ``period`` (preparing again replaces them)."""
    for draft in session.scalars(
        select(Invoice).where(
            Invoice.period_id == period.id, Invoice.status == InvoiceStatus.DRAFT.value
        )
    ):
        session.delete(draft)
    session.flush()


def _run_services_to_invoice(
    session: Session, period: Period, run: AllocationRun | None
) -> list[AllocationRunService]:
    """The approved run services of ``period`` (of ``run`` only, when given); refused when
    there is none, saying whether a run waits for the treasurer's approval."""
    if run is not None:
        if run.period_id != period.id:
            raise AllocationNotApproved(
                f"La répartition n° {run.id} ne porte pas sur la période {period.label}."
            )
        if not run.is_approved:
            raise AllocationNotApproved(
                f"La répartition n° {run.id} de {period.label} n'est pas approuvée : le "
                "trésorier doit l'approuver avant toute facture."
            )
        run_services = [rs for rs in approved_run_services(session, period) if rs.run_id == run.id]
    else:
        run_services = approved_run_services(session, period)
    if not run_services:
        stored = session.scalar(
            select(func.count(AllocationRun.id)).where(AllocationRun.period_id == period.id)
        )
        detail = (
            "une répartition est enregistrée mais pas encore approuvée par le trésorier"
            if stored
            else "aucune répartition n'est enregistrée"
        )
        raise AllocationNotApproved(
            f"Pas de facture pour {period.label} : {detail}. Les factures ne se font que sur "
            "une répartition approuvée."
        )
    return run_services


def _line_rows(
    context: _Context, member: Member, ordered: Sequence[int],
    specs: Sequence[tuple[str, Decimal, Decimal]],
) -> list[dict[str, Any]]:
    """The rows of one draft's lines (VAT per rate over the draft), with their annex; a
    correction's line says what was approved and what was already invoiced."""
    vats = line_vats(specs)
    earlier = context.cited.get(member.id)
    rows = []
    for position, (service_id, (regime, rate, base), vat) in enumerate(
        zip(ordered, specs, vats, strict=True), start=1
    ):
        service = context.services[service_id]
        line = context.approved.get((member.id, service_id))
        designation = f"{service.name} — {context.period.label} — montant réparti annulé"
        basis: dict[str, Any] = {}
        if line is not None:
            rs = context.by_pair[(line.run_id, line.service_id)]
            line_period = context.periods[line.run_id]
            if rs.key_text not in context.keys:
                context.keys[rs.key_text] = parse_key(rs.key_text)
            key = context.keys[rs.key_text]
            share = line_share(line)
            designation = _designation(service, line_period, key, share)
            basis = _annex(rs, line, line_period, share, key)
        if earlier is not None:
            target = line.amount if line is not None else ZERO
            before = context.documented.get((member.id, service_id), ZERO)
            designation = correction_designation(service, context.period, target, before)
            basis["correction"] = {
                "approved": str(target), "documented": str(before),
                "difference": str(target - before), "cites": earlier.number,
            }
        rows.append(_row(InvoiceLine, {
            "position": position,
            "service_id": service_id,
            "allocation_line_id": line.id if line is not None else None,
            "designation": designation,
            "revenue_account": service.revenue_account,
            "amount_excl_tax": base,
            "vat_regime": regime,
            "vat_rate": rate,
            "vat_amount": vat,
            "basis": basis,
        }))  # fmt: skip
    return rows


def correction_designation(
    service: Service, period: Period, approved: Decimal, documented: Decimal
) -> str:
    """« Comptabilité / gestion — T4 2025 — régularisation : 1 200,00 € selon la répartition
    approuvée, 1 000,00 € déjà facturés »."""
    return (
        f"{service.name} — {period.label} — régularisation : {format_eur(approved)} selon la "
        f"répartition approuvée, {format_eur(documented)} déjà facturés"
    )


def _correction_reason(period: Period, kind: InvoiceKind, earlier: Invoice | None) -> str:
    if earlier is None:
        if kind is InvoiceKind.CREDIT_NOTE:
            return (
                f"Répartition négative de {period.label} (subventions supérieures aux charges) "
                "restituée par avoir."
            )
        return ""
    what = "Avoir" if kind is InvoiceKind.CREDIT_NOTE else "Facture complémentaire"
    return (
        f"{what} : répartition de {period.label} corrigée, régularisation de la facture "
        f"{earlier.number} du {earlier.issue_date:%d/%m/%Y}."
    )


def _invoice_row(
    context: _Context, plan: DocumentPlan[int, int], member: Member,
    rows: Sequence[dict[str, Any]], now: datetime,
) -> dict[str, Any]:
    """The row of one draft, its totals from its line ``rows``; a correction cites the
    member's earlier invoice of the period."""
    total_excl_tax = sum((row["amount_excl_tax"] for row in rows), ZERO)
    total_vat = sum((row["vat_amount"] for row in rows), ZERO)
    credit = plan.kind is InvoiceKind.CREDIT_NOTE
    earlier = context.cited.get(member.id)
    return _row(Invoice, {
        "kind": plan.kind.value,
        "status": InvoiceStatus.DRAFT.value,
        "carrier_id": context.carrier.id,
        "member_id": member.id,
        "period_id": context.period.id,
        "original_id": earlier.id if credit and earlier is not None else None,
        "corrects_id": earlier.id if not credit and earlier is not None else None,
        "reason": _correction_reason(context.period, plan.kind, earlier),
        "service_start": context.period.start,
        "service_end": context.period.end,
        **identities(member, context.carrier),
        "total_excl_tax": total_excl_tax,
        "total_vat": total_vat,
        "total_incl_tax": total_excl_tax + total_vat,
        "created_at": now,
    })  # fmt: skip


def _row(model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` completed with the defaults of the other columns, as the ORM would insert
    them (the audit records the whole row)."""
    row = dict(values)
    for column in model.__table__.columns:
        if column.key in row or column.primary_key:
            continue
        default = column.default
        if default is None:
            row[column.key] = None
        elif default.is_scalar:
            row[column.key] = default.arg
        elif default.is_callable:
            row[column.key] = default.arg(None)
        else:  # pragma: no cover - no SQL-expression defaults on these tables
            raise TypeError(f"unsupported default for {column}")
    return row


def _insert_drafts(
    session: Session,
    invoice_rows: list[dict[str, Any]],
    line_rows: dict[int, list[dict[str, Any]]],
) -> list[Invoice]:
    """Insert the drafts and their lines through Core, audit each draft as the session hook
    does for an ORM insert ("create" with the row), and return them as ORM objects in
    ``invoice_rows``' order. The new ids are read back by member (one draft per member and
    period), not by the order of RETURNING, which SQLite does not promise."""
    session.flush()
    conn = session.connection()
    table = Invoice.__table__
    ids: dict[int, int] = {}
    for start in range(0, len(invoice_rows), 1000):
        chunk = invoice_rows[start : start + 1000]
        ids.update(
            (member_id, invoice_id)
            for invoice_id, member_id in conn.execute(
                insert(table).returning(table.c.id, table.c.member_id), chunk
            )
        )
    lines = []
    for row in invoice_rows:
        row["id"] = ids[row["member_id"]]
        for line in line_rows[row["member_id"]]:
            line["invoice_id"] = row["id"]
            lines.append(line)
    if lines:
        conn.execute(insert(InvoiceLine.__table__), lines)
    record_audits(
        session, "create", Invoice.__tablename__,
        [(row["id"], snapshot_values(Invoice, row)) for row in invoice_rows],
    )  # fmt: skip
    wanted = set(ids.values())
    loaded = {
        invoice.id: invoice
        for invoice in session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == invoice_rows[0]["period_id"],
                Invoice.status == InvoiceStatus.DRAFT.value,
            )
            .options(selectinload(Invoice.lines))
        )
        if invoice.id in wanted
    }
    return [loaded[row["id"]] for row in invoice_rows]


def draft_invoices(session: Session, period: Period) -> list[Invoice]:
    """The drafts of a period (invoices and credit notes), by member code."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id, Invoice.status == InvoiceStatus.DRAFT.value
            )
            .order_by(Invoice.customer_code)
            .options(selectinload(Invoice.lines), selectinload(Invoice.member))
        )
    )


def delete_draft(session: Session, invoice: Invoice) -> None:
    """Drop a draft (an issued document is never deleted)."""
    if not invoice.is_draft:
        from accounting.invoicing.errors import InvoiceImmutable

        raise InvoiceImmutable(
            f"{invoice.kind_label} {invoice.number} est émis : il ne peut plus être supprimé. "
            "Seul un avoir peut l'annuler."
        )
    session.delete(invoice)
    session.flush()
