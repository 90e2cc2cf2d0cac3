"""An issued invoice or credit note as Factur-X data: the same snapshot the workbook is drawn
from (identities, terms, lines, VAT, totals), turned into :class:`accounting.facturx.cii.Document`.

Choices, each required by a business rule of EN 16931 or by DESIGN:

* A line invoices one service's share for the period: quantity 1, unit C62 (« one »), net
  price = net amount; the amounts of a credit note are positive (type 381 says it credits).
* VAT: category S at the line's rate, or E (exempt, rate 0) with reason code VATEX-EU-132-1F
  and the carrier's exemption wording (CGI 261 B) as reason text in the breakdown.
* Seller and buyer: SIREN as legal identifier (scheme 0002), electronic address from the
  snapshot (``SCHEME:ID``) or ``0225:<SIREN>``; documents issued before structured addresses
  have their address text split when it can be (:mod:`accounting.addresses`).
* Notes (BT-22) carry the mentions French law asks for: penalties (PMD), the 40 € indemnity
  (PMT), no discount (AAB) and, for an exemption, its wording.
"""

from __future__ import annotations

from decimal import Decimal

from accounting.addresses import Address, electronic_address
from accounting.facturx import cii
from accounting.invoicing.amounts import DISCOUNT_MENTION, RECOVERY_INDEMNITY, format_eur
from accounting.invoicing.models import Invoice
from accounting.org import VatRegime

ZERO = Decimal("0.00")


def _rate(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %"


def _party(
    name: str, address: Address, siren: str | None, vat_number: str | None,
    electronic: str | None, email: str | None = None,
) -> cii.Party:
    return cii.Party(
        name=name,
        lines=address.lines or (name,),
        postcode=address.postcode,
        city=address.city,
        country_code=address.country_code or "FR",
        siren=siren,
        vat_number=vat_number,
        electronic_address=electronic_address(electronic, siren),
        email=email,
    )


def _category(regime: str) -> str:
    return "E" if regime == VatRegime.EXEMPT_261B else "S"


def mentions(invoice: Invoice) -> list[tuple[str | None, str]]:
    """The legal mentions as (UNTDID 4451 subject code, text)."""
    notes: list[tuple[str | None, str]] = []
    if invoice.is_credit_note and invoice.original is not None:
        notes.append((None, f"Avoir sur la facture n° {invoice.original.number}. "
                            f"Motif : {invoice.reason}"))
    notes += [
        ("AAB", f"{DISCOUNT_MENTION}."),
        ("PMD", "Pénalités de retard : taux annuel de "
                f"{_rate(invoice.late_penalty_rate)}, exigibles dès le lendemain de la date "
                "d'échéance (article L441-10 du Code de commerce)."),
        ("PMT", "Indemnité forfaitaire pour frais de recouvrement due par le client "
                f"professionnel en cas de retard de paiement : {format_eur(RECOVERY_INDEMNITY)} "
                "(article D441-5 du Code de commerce)."),
    ]
    if invoice.is_exempt_anywhere:
        notes.append(("REG", f"{invoice.vat_exemption_mention}."))
    return notes


def facturx_document(invoice: Invoice) -> cii.Document:
    """The Factur-X data of an issued invoice or credit note."""
    if invoice.number is None or invoice.issue_date is None:
        raise ValueError("a draft has no document: issue it first")
    seller = _party(
        invoice.carrier_name, invoice.carrier_postal, invoice.carrier_siren,
        invoice.carrier_vat_number, invoice.carrier_electronic_address, invoice.carrier_email,
    )
    buyer = _party(
        invoice.customer_name, invoice.customer_postal, invoice.customer_siren,
        invoice.customer_vat_number, invoice.customer_electronic_address,
    )
    period = (invoice.service_start, invoice.service_end)
    lines = tuple(
        cii.Line(
            line_id=str(line.position),
            name=line.designation,
            quantity=Decimal(1),
            unit_code=cii.UNIT_ONE,
            net_price=line.amount_excl_tax,
            net_amount=line.amount_excl_tax,
            vat_category=_category(line.vat_regime),
            vat_rate=line.vat_rate,
        )
        for line in invoice.lines
    )
    vat = tuple(
        cii.VatBreakdown(
            category=_category(total.regime),
            rate=total.rate,
            basis=total.base,
            tax=total.vat,
            exemption_code=cii.VATEX_COST_SHARING if total.regime == VatRegime.EXEMPT_261B
            else None,
            exemption_text=invoice.vat_exemption_mention
            if total.regime == VatRegime.EXEMPT_261B else None,
        )
        for total in invoice.vat_totals
    )
    credit = invoice.is_credit_note
    original = invoice.original if credit else None
    return cii.Document(
        number=invoice.number,
        type_code=cii.CREDIT_NOTE if credit else cii.PREPAYMENT if invoice.is_call
        else cii.INVOICE,
        issue_date=invoice.issue_date,
        seller=seller,
        buyer=buyer,
        lines=lines,
        vat=vat,
        total_excl_tax=invoice.total_excl_tax,
        total_vat=invoice.total_vat,
        total_incl_tax=invoice.total_incl_tax,
        due_payable=invoice.total_incl_tax,
        buyer_reference=invoice.customer_code or None,
        notes=tuple(mentions(invoice)),
        period=period,
        due_date=None if credit else invoice.due_date,
        payment_terms=(
            f"Paiement à {invoice.payment_terms_days} jours, par virement"
            if not credit else "Montant à déduire ou remboursé"
        ),
        iban=invoice.carrier_iban if not credit else None,
        bic=invoice.carrier_bic if not credit else None,
        payment_reference=invoice.number if not credit else None,
        preceding=(original.number, original.issue_date) if original is not None else None,
    )
