"""The use cases of invoicing: one function per act, each taking the session, flushing and never
committing (the caller's transaction is the unit of work; a rollback undoes everything,
numbers included).

* :func:`prepare_invoices` — draft invoices of a period from its APPROVED allocation: one per
  member (never the carrier's own member), one line per service allocated.
* :func:`issue_invoices` — number the drafts of a period, date them, snapshot the identities.
* :func:`create_credit_note` — an "avoir", full or partial, in the same number series.
* :func:`period_has_issued_invoices` — the reopen check of periods.

Payments, balances and overdue invoices are in :mod:`accounting.invoicing.payments`.

The ledger (issue 6) posts its journal entries from the documents these functions return, in
the same transaction (see ``app/invoices/usecases.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
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
from accounting.db import lock_counter_row, utcnow
from accounting.invoicing.amounts import (
    InvoiceKind,
    InvoiceStatus,
    due_date,
    format_eur,
    format_number,
    line_vats,
    split_credit,
    status_after,
    vat_rate_for,
)
from accounting.invoicing.errors import (
    AllocationNotApproved,
    AlreadyInvoiced,
    CreditNoteRefused,
    InvoicingError,
    MissingIdentity,
    NothingToInvoice,
    NumberingError,
    PeriodNotInvoiceable,
)
from accounting.invoicing.models import (
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    VatRegimeRule,
    money_sum,
)
from accounting.money import ZERO, is_cents
from accounting.org import Carrier, Member, Service, VatRegime
from accounting.periods import Period, closed_period_containing
from accounting.seal import seal_record, seal_records

#: Statuses of an invoice that still counts (not a draft, not cancelled by credit notes).
LIVE = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value, InvoiceStatus.PAID.value)
#: Statuses of an invoice that may still receive money.
OPEN = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value)


# ============================================================================ carrier, regimes


def get_carrier(session: Session) -> Carrier:
    """The carrier (one per installation)."""
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).first()
    if carrier is None:
        raise MissingIdentity(
            {"Structure porteuse": ["à créer dans l'administration avant toute facture"]}
        )
    return carrier


def vat_regimes(
    session: Session, carrier: Carrier, member_ids: Iterable[int]
) -> dict[tuple[int, int | None], str]:
    """The rules of these members: (member id, service id or None) → regime."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VatRegimeRule.member_id, VatRegimeRule.service_id, VatRegimeRule.regime).where(
            VatRegimeRule.member_id.in_(ids)
        )
    )
    return {(m, s): regime for m, s, regime in rows}


def resolve_vat_regime(
    rules: Mapping[tuple[int, int | None], str], default: str, member_id: int, service_id: int
) -> str:
    """Member × service rule, else the member's rule for all services, else the carrier's."""
    return rules.get((member_id, service_id)) or rules.get((member_id, None)) or default


def set_vat_regime(
    session: Session, member: Member, service: Service | None, regime: str | None
) -> VatRegimeRule | None:
    """Set (or, with ``regime=None``, remove) the regime of a member for a service (``None``:
    all its services). Drafts already prepared keep theirs until prepared again."""
    if regime is not None:
        regime = VatRegime(regime).value
    service_id = service.id if service else None
    rule = session.scalars(
        select(VatRegimeRule).where(
            VatRegimeRule.member_id == member.id,
            VatRegimeRule.service_id.is_(None)
            if service_id is None
            else VatRegimeRule.service_id == service_id,
        )
    ).one_or_none()
    if regime is None:
        if rule is not None:
            session.delete(rule)
            session.flush()
        return None
    if rule is None:
        rule = VatRegimeRule(member_id=member.id, service_id=service_id, regime=regime)
        session.add(rule)
    else:
        rule.regime = regime
    session.flush()
    return rule


# ============================================================================ identities


def missing_mentions(
    carrier: Carrier, members: Iterable[Member], *, needs_vat_number: bool
) -> dict[str, list[str]]:
    """What the mandatory mentions lack, per party (empty when all is there)."""
    missing: dict[str, list[str]] = {}
    lacks = []
    if not carrier.name.strip():
        lacks.append("raison sociale")
    if not carrier.address.strip():
        lacks.append("adresse")
    if not carrier.siret:
        lacks.append("SIRET")
    if needs_vat_number and not carrier.vat_number:
        lacks.append("numéro de TVA intracommunautaire")
    if lacks:
        missing[f"structure porteuse {carrier.name}".strip()] = lacks
    for member in sorted(members, key=lambda m: m.code):
        lacks = []
        if not member.siret:
            lacks.append("SIRET (donne le SIREN)")
        if not member.address.strip():
            lacks.append("adresse")
        if lacks:
            missing[f"adhérent {member.code} {member.name}"] = lacks
    return missing


def _check_mentions(carrier: Carrier, invoices: Sequence[Invoice]) -> None:
    members = {inv.member.id: inv.member for inv in invoices}.values()
    needs_vat = any(
        line.vat_regime == VatRegime.STANDARD for inv in invoices for line in inv.lines
    )
    missing = missing_mentions(carrier, members, needs_vat_number=needs_vat)
    if missing:
        raise MissingIdentity(missing)


def _identities(member: Member, carrier: Carrier) -> dict[str, Any]:
    """The parties' identities and terms as the document copies them (frozen at issue)."""
    return {
        "customer_code": member.code,
        "customer_name": member.name,
        "customer_address": member.address,
        "customer_siret": member.siret,
        "customer_siren": member.siren,
        "customer_vat_number": member.vat_number,
        "carrier_name": carrier.name,
        "carrier_address": carrier.address,
        "carrier_siret": carrier.siret,
        "carrier_siren": carrier.siren or (carrier.siret[:9] if carrier.siret else None),
        "carrier_vat_number": carrier.vat_number,
        "carrier_iban": carrier.iban,
        "carrier_bic": carrier.bic,
        "carrier_email": carrier.email,
        "payment_terms_days": carrier.payment_terms_days,
        "late_penalty_rate": carrier.late_penalty_rate,
        "vat_exemption_mention": carrier.vat_exemption_mention,
    }


def _snapshot(invoice: Invoice, member: Member, carrier: Carrier) -> None:
    """Copy the parties' identities and terms onto the document (frozen at issue)."""
    for key, value in _identities(member, carrier).items():
        setattr(invoice, key, value)


def _set_totals(invoice: Invoice) -> None:
    invoice.total_excl_tax = sum((line.amount_excl_tax for line in invoice.lines), ZERO)
    invoice.total_vat = sum((line.vat_amount for line in invoice.lines), ZERO)
    invoice.total_incl_tax = invoice.total_excl_tax + invoice.total_vat


# ============================================================================ drafts


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


def _live_invoices(session: Session, period: Period) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id,
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status.in_(LIVE),
            )
            .order_by(Invoice.sequence)
        )
    )


def _already_invoiced(period: Period, invoices: Sequence[Invoice]) -> AlreadyInvoiced:
    numbers = [inv.number for inv in invoices if inv.number]
    shown = numbers[0] if len(numbers) == 1 else f"{numbers[0]} à {numbers[-1]}"
    return AlreadyInvoiced(
        f"La période {period.label} est déjà facturée ({len(numbers)} facture"
        f"{'s' if len(numbers) > 1 else ''} : {shown}). Une facture émise ne se refait pas : "
        "un avoir l'annule, puis la période peut être refacturée pour cet adhérent."
    )


def _refuse_closed(session: Session, period: Period, day: date | None = None) -> None:
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
    _refuse_closed(session, period)
    carrier = get_carrier(session)
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

    live = _live_invoices(session, period)
    invoiced_members = {inv.member_id for inv in live}
    by_pair = {(rs.run_id, rs.service_id): rs for rs in run_services}
    run_ids = {rs.run_id for rs in run_services}
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
            raise _already_invoiced(period, live)
        raise NothingToInvoice(
            f"Rien à facturer pour {period.label} : la répartition approuvée ne donne aucun "
            "montant aux adhérents (hors structure porteuse)."
        )

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

    for draft in session.scalars(
        select(Invoice).where(
            Invoice.period_id == period.id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status == InvoiceStatus.DRAFT.value,
        )
    ):
        session.delete(draft)
    session.flush()

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
        line_rows[member_id] = rows
        total_excl_tax = sum((row["amount_excl_tax"] for row in rows), ZERO)
        total_vat = sum((row["vat_amount"] for row in rows), ZERO)
        invoice_rows.append(_row(Invoice, {
            "kind": InvoiceKind.INVOICE.value,
            "status": InvoiceStatus.DRAFT.value,
            "carrier_id": carrier.id,
            "member_id": member.id,
            "period_id": period.id,
            "service_start": period.start,
            "service_end": period.end,
            **_identities(member, carrier),
            "total_excl_tax": total_excl_tax,
            "total_vat": total_vat,
            "total_incl_tax": total_excl_tax + total_vat,
            "created_at": now,
        }))  # fmt: skip
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


# ============================================================================ numbering


def _lock_series(session: Session, carrier_id: int, year: int) -> InvoiceSequence:
    """The counter row of (carrier, year), created if missing, locked until the transaction
    ends."""
    return lock_counter_row(session, InvoiceSequence, carrier_id=carrier_id, year=year)


def _take_numbers(series: InvoiceSequence, issue_date: date, count: int) -> list[int]:
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


def _finalize(
    invoice: Invoice, carrier: Carrier, year: int, sequence: int, issue_date: date,
    issued_by: str,
) -> None:
    _snapshot(invoice, invoice.member, carrier)
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
    _refuse_closed(session, period, issue_date)
    carrier = get_carrier(session)
    series = _lock_series(session, carrier.id, issue_date.year)
    wanted = set(invoice_ids) if invoice_ids is not None else None
    drafts = [
        d
        for d in session.scalars(
            select(Invoice)
            .where(
                Invoice.period_id == period.id,
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status == InvoiceStatus.DRAFT.value,
            )
            .order_by(Invoice.customer_code, Invoice.id)
            .options(selectinload(Invoice.lines), selectinload(Invoice.member))
            .execution_options(populate_existing=True)
        )
        if wanted is None or d.id in wanted
    ]
    if not drafts:
        live = _live_invoices(session, period)
        if live:
            raise _already_invoiced(period, live)
        raise NothingToInvoice(
            f"Aucun brouillon à émettre pour {period.label} : préparez d'abord les factures."
        )
    already = {inv.member_id: inv for inv in _live_invoices(session, period)}
    doubled = sorted(d.customer_code for d in drafts if d.member_id in already)
    if doubled:
        raise AlreadyInvoiced(
            f"Déjà facturé pour {period.label} : {', '.join(doubled)}. Une facture émise ne se "
            "refait pas : un avoir l'annule d'abord."
        )
    _check_runs_still_approved(session, drafts)
    members = session.scalars(
        select(Member)
        .where(Member.id.in_({d.member_id for d in drafts}))
        .execution_options(populate_existing=True)
    ).all()
    by_id = {m.id: m for m in members}
    for d in drafts:
        d.member = by_id[d.member_id]
    _check_mentions(carrier, drafts)
    numbers = _take_numbers(series, issue_date, len(drafts))
    for invoice, sequence in zip(drafts, numbers, strict=True):
        _finalize(invoice, carrier, issue_date.year, sequence, issue_date, issued_by)
    session.flush()
    seal_records(session, Invoice.__tablename__, [d.id for d in drafts], "issue")
    record_audit(
        session, "issue", Invoice.__tablename__, None,
        after={"period": period.code, "numbers": [d.number for d in drafts],
               "issue_date": issue_date},
    )
    return drafts


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


def period_has_issued_invoices(session: Session, period: Period) -> bool:
    """True when an invoice or credit note of the period has a number (then the period may not
    be reopened: its invoices are final)."""
    return bool(
        session.scalar(
            select(func.count(Invoice.id)).where(
                Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT.value
            )
        )
    )


def refuse_reopen_when_invoiced(session: Session, period: Period) -> str | None:
    """A reopen check for :mod:`accounting.periods`: the reason to refuse, or None."""
    if period_has_issued_invoices(session, period):
        return (
            "des factures de la période sont émises (seul un avoir les annule, la période "
            "reste close)"
        )
    return None


# ============================================================================ credit notes


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
    issue_date = issue_date or date.today()
    _refuse_closed_day(session, issue_date)
    carrier = get_carrier(session)
    series = _lock_series(session, carrier.id, issue_date.year)
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
    originals = {line.id: line for line in invoice.lines}
    keys = [k for k in nets if nets[k] != ZERO]
    specs = [(originals[k].vat_regime, originals[k].vat_rate, nets[k]) for k in keys]
    vats = line_vats(specs)
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE.value,
        status=InvoiceStatus.DRAFT.value,
        carrier_id=carrier.id,
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
    session.add(note)
    session.flush()
    (sequence,) = _take_numbers(series, issue_date, 1)
    _finalize(note, carrier, issue_date.year, sequence, issue_date, issued_by)
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


def _refuse_closed_day(session: Session, day: date) -> None:
    closed = closed_period_containing(session, day)
    if closed is not None:
        raise PeriodNotInvoiceable(
            f"Le {day:%d/%m/%Y} est dans la période clôturée {closed.label} : choisissez une "
            "date dans une période ouverte."
        )


def invoice_by_number(session: Session, number: str) -> Invoice:
    """The issued document of that number, or a clear refusal."""
    invoice = session.scalars(select(Invoice).where(Invoice.number == number.strip())).first()
    if invoice is None:
        raise InvoicingError(f"Aucune facture ni avoir n'a le numéro « {number} ».")
    return invoice


__all__ = [
    "LIVE",
    "create_credit_note",
    "creditable",
    "delete_draft",
    "draft_invoices",
    "get_carrier",
    "invoice_by_number",
    "issue_invoices",
    "missing_mentions",
    "period_has_issued_invoices",
    "prepare_invoices",
    "refuse_reopen_when_invoiced",
    "resolve_vat_regime",
    "set_vat_regime",
    "vat_regimes",
]
