"""The entries a member books in its own books for what the carrier invoiced it.

For each invoice issued to the member in the period: debit the member-side expense account of
each service (``Service.expense_account``: 6214 for staff made available, 6226 for fees...),
debit 445660 the VAT where VAT applies, credit the carrier as a supplier, 401 + the carrier's
code (its auxiliary account: code and name). A credit note is the same entry reversed. The
lines come as FEC lines, so they are written both as a FEC-format file the member's accounting
software imports and as a workbook.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounting.fec import FecLine
from accounting.invoicing.amounts import InvoiceStatus
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.ledger.chart import VAT_DEDUCTIBLE, carrier_supplier_account, pcg_label
from accounting.money import ZERO
from accounting.org import Carrier, Member

JOURNAL = ("HA", "Achats")


def member_documents(session: Session, member: Member, start: date, end: date) -> list[Invoice]:
    """The member's issued invoices and credit notes dated in [start, end], in number order."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.member_id == member.id,
                Invoice.status != InvoiceStatus.DRAFT.value,
                Invoice.issue_date >= start,
                Invoice.issue_date <= end,
            )
            .order_by(Invoice.year, Invoice.sequence)
            .options(selectinload(Invoice.lines).selectinload(InvoiceLine.service))
        )
    )


def member_entries(session: Session, member: Member, start: date, end: date) -> list[FecLine]:
    """The lines the member books for its documents of the period (see the module doc)."""
    carrier = session.scalars(select(Carrier).order_by(Carrier.id)).first()
    if carrier is None:
        return []
    lines: list[FecLine] = []
    for document in member_documents(session, member, start, end):
        lines.extend(document_entry(document, carrier))
    return lines


def document_entry(document: Invoice, carrier: Carrier) -> list[FecLine]:
    """The member-side entry of one issued invoice or credit note."""
    supplier = carrier_supplier_account(carrier)
    code, label = JOURNAL
    sign = -1 if document.is_credit_note else 1
    what = "Avoir" if document.is_credit_note else "Facture"
    text = f"{what} {document.number} – {carrier.name}"
    day = document.issue_date
    expenses: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    vat = ZERO
    for line in document.lines:
        expenses[(line.service.expense_account, line.service.name)] += line.amount_excl_tax
        vat += line.vat_amount
    lines: list[FecLine] = []

    def add(account: str, account_label: str, amount: Decimal, aux: str = "",
            aux_label: str = "", detail: str = "") -> None:  # fmt: skip
        if amount == ZERO:
            return
        debit, credit = (amount, ZERO) if amount > ZERO else (ZERO, -amount)
        lines.append(FecLine(
            code, label, document.number, day, account, account_label, aux, aux_label,
            document.number, day, f"{text} – {detail}" if detail else text, debit, credit,
            "", None, day,
        ))  # fmt: skip

    for (account, service_name), amount in expenses.items():
        add(account, pcg_label(account), sign * amount, detail=service_name)
    add(VAT_DEDUCTIBLE, pcg_label(VAT_DEDUCTIBLE), sign * vat, detail="TVA")
    add(supplier, carrier.name, -sign * document.total_incl_tax, carrier.code, carrier.name)
    return lines


def member_file_stem(member: Member, start: date, end: date) -> str:
    """« ecritures-VH01-2026-01-01-2026-03-31 »."""
    return f"ecritures-{member.code}-{start.isoformat()}-{end.isoformat()}"
