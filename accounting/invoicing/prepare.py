"""Preparing the draft invoices of a period from its approved allocation (one per member, one
line per service, the annex of the figures), the drafts' list and their deletion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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
from accounting.invoicing.errors import (
    AllocationNotApproved,
    InvoicingError,
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
    """Build the draft invoices of ``period`` from its approved allocation (replacing the
    drafts prepared before). One draft per member with something to pay, none for the
    carrier's own member, one line per service.

    Refused: a closed period; no approved allocation (or ``run`` given and not approved); a
    period already invoiced for every member; missing mandatory mentions (the message lists
    what to complete); a member whose total would be negative.
    """
    refuse_closed(session, period)
    carrier = get_carrier(session)
    run_services = _run_services_to_invoice(session, period, run)
    by_pair = {(rs.run_id, rs.service_id): rs for rs in run_services}
    to_invoice = _lines_to_invoice(session, period, carrier, by_pair)
    members = {m_id: ls[0].member for m_id, ls in to_invoice.items()}
    negative = [
        f"{members[m].code} ({format_eur(sum((ln.amount for ln in ls), ZERO))})"
        for m, ls in to_invoice.items()
        if sum((ln.amount for ln in ls), ZERO) < ZERO
    ]
    if negative:
        raise InvoicingError(
            f"Total négatif pour {period.label} : {', '.join(sorted(negative))}. Une facture ne "
            "peut pas être négative : vérifiez les subventions de la période."
        )
    rules = vat_regimes(session, carrier, to_invoice)
    periods = {rs.run_id: rs.run.period for rs in run_services}

    _delete_drafts(session, period)

    # Rows, not ORM objects: the unit of work inserts invoices and lines one row at a time on
    # SQLite (it needs each new id) and 1 000 drafts took seconds; Core inserts them in a few
    # multi-row statements, and the audit records what the session hook would have.
    now = utcnow()
    invoice_rows: list[dict[str, Any]] = []
    line_rows: dict[int, list[dict[str, Any]]] = {}
    keys: dict[str, Key] = {}
    for member_id in sorted(to_invoice, key=lambda m: members[m].code):
        member = members[member_id]
        ordered = sorted(
            to_invoice[member_id],
            key=lambda ln: (periods[ln.run_id].start, ln.service.code),
        )
        specs = []
        for line in ordered:
            regime = resolve_vat_regime(rules, carrier.vat_regime, member.id, line.service_id)
            specs.append((regime, vat_rate_for(regime), line.amount))
        rows = _line_rows(ordered, specs, by_pair, periods, keys)
        line_rows[member_id] = rows
        invoice_rows.append(_invoice_row(period, carrier, member, rows, now))
    missing = missing_mentions(
        carrier, members.values(),
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


def _delete_drafts(session: Session, period: Period) -> None:
    """Drop the drafts prepared before for ``period`` (preparing again replaces them)."""
    for draft in session.scalars(
        select(Invoice).where(
            Invoice.period_id == period.id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status == InvoiceStatus.DRAFT.value,
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


def _lines_to_invoice(
    session: Session, period: Period, carrier: Carrier,
    by_pair: Mapping[tuple[int, int], AllocationRunService],
) -> dict[int, list[AllocationLine]]:
    """member id → its allocation lines to invoice: not zero, not the carrier's own member,
    not a member already invoiced for the period (refused when nothing is left)."""
    live = live_invoices(session, period)
    invoiced_members = {inv.member_id for inv in live}
    run_ids = {run_id for run_id, _ in by_pair}
    lines = [
        line
        for line in session.scalars(
            select(AllocationLine)
            .where(AllocationLine.run_id.in_(run_ids))
            .options(selectinload(AllocationLine.member), selectinload(AllocationLine.service))
        )
        if (line.run_id, line.service_id) in by_pair
        and line.member_id != carrier.member_id
        and line.amount != ZERO
    ]
    to_invoice: dict[int, list[AllocationLine]] = defaultdict(list)
    for line in lines:
        if line.member_id not in invoiced_members:
            to_invoice[line.member_id].append(line)
    if not to_invoice:
        if live:
            raise already_invoiced(period, live)
        raise NothingToInvoice(
            f"Rien à facturer pour {period.label} : la répartition approuvée ne donne aucun "
            "montant aux adhérents (hors structure porteuse)."
        )
    return to_invoice


def _line_rows(
    ordered: Sequence[AllocationLine], specs: Sequence[tuple[str, Decimal, Decimal]],
    by_pair: Mapping[tuple[int, int], AllocationRunService], periods: Mapping[int, Period],
    keys: dict[str, Key],
) -> list[dict[str, Any]]:
    """The rows of one draft's lines (VAT per rate over the draft), with their annex;
    ``keys`` caches the parsed keys across drafts."""
    vats = line_vats(specs)
    rows = []
    for position, (line, (regime, rate, base), vat) in enumerate(
        zip(ordered, specs, vats, strict=True), start=1
    ):
        rs = by_pair[(line.run_id, line.service_id)]
        line_period = periods[line.run_id]
        if rs.key_text not in keys:
            keys[rs.key_text] = parse_key(rs.key_text)
        key = keys[rs.key_text]
        share = line_share(line)
        rows.append(_row(InvoiceLine, {
            "position": position,
            "service_id": line.service_id,
            "allocation_line_id": line.id,
            "designation": _designation(line.service, line_period, key, share),
            "revenue_account": line.service.revenue_account,
            "amount_excl_tax": base,
            "vat_regime": regime,
            "vat_rate": rate,
            "vat_amount": vat,
            "basis": _annex(rs, line, line_period, share, key),
        }))  # fmt: skip
    return rows


def _invoice_row(
    period: Period, carrier: Carrier, member: Member, rows: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """The row of one draft, its totals from its line ``rows``."""
    total_excl_tax = sum((row["amount_excl_tax"] for row in rows), ZERO)
    total_vat = sum((row["vat_amount"] for row in rows), ZERO)
    return _row(Invoice, {
        "kind": InvoiceKind.INVOICE.value,
        "status": InvoiceStatus.DRAFT.value,
        "carrier_id": carrier.id,
        "member_id": member.id,
        "period_id": period.id,
        "service_start": period.start,
        "service_end": period.end,
        **identities(member, carrier),
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
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status == InvoiceStatus.DRAFT.value,
            )
            .options(selectinload(Invoice.lines))
        )
        if invoice.id in wanted
    }
    return [loaded[row["id"]] for row in invoice_rows]


def draft_invoices(session: Session, period: Period) -> list[Invoice]:
    """The drafts of a period, by member code."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id,
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status == InvoiceStatus.DRAFT.value,
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
