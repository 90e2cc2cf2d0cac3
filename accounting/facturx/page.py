"""What the PDF page of an issued document shows, as plain French text: the same snapshot and
the same legal mentions as the workbook (:mod:`accounting.workbooks.invoice`), formatted the
French way (Babel: « 1 234,56 € », « 10/04/2025 », « 20 % »).

Plain picklable data: built in the process that holds the database session, drawn by
:mod:`accounting.facturx.drawing` in a worker process (:func:`accounting.facturx.pdf.facturx_pdfs`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal

from accounting.facturx.drawing import AnnexBlock, Page
from accounting.invoicing.amounts import OPERATION_NATURE
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.org import VatRegime
from accounting.workbooks.invoice import _mentions as workbook_mentions


def eur(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    pattern = "#,##0.00\u00a0¤" if places == 2 else "#,##0.000000\u00a0¤"
    return format_currency(value, "EUR", format=pattern, locale="fr_FR", currency_digits=False)


def fr_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def rate(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.##", locale="fr_FR") + "\u00a0%"


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _annex_block(line: InvoiceLine, credit: bool) -> AnnexBlock:
    basis = line.basis or {}
    if not basis:
        return AnnexBlock(designation=line.designation)
    rows = (
        ("Charges du service sur la période", eur(_decimal(basis.get("costs")))),
        ("Subventions déduites", eur(_decimal(basis.get("subsidies")))),
        ("Quote-part des frais de structure", eur(_decimal(basis.get("overheads")))),
        ("Montant à répartir entre les adhérents", eur(_decimal(basis.get("pool")))),
        ("Clé de répartition", str(basis.get("key_fr", basis.get("key", "")))),
    )
    parts = tuple(
        (
            f"{part.get('weight', '')} % — {part.get('basis', '')}"
            + (" (travail commun)" if part.get("common") else ""),
            str(part.get("value", "")),
            str(part.get("total", "")),
            format_decimal(Decimal(part.get("share_percent", "0")), format="0.0000",
                           locale="fr_FR") + "\u00a0%",
            eur(Decimal(part.get("pool", "0"))),
            eur(Decimal(part.get("exact", "0")), places=6),
        )
        for part in basis.get("parts", [])
    )
    closing = [
        ("Part exacte de l'adhérent", eur(Decimal(basis.get("exact", "0")), places=6)),
        ("Arrondi au centime (plus forts restes)", eur(Decimal(basis.get("adjustment", "0")))),
        ("Montant réparti à l'adhérent", eur(Decimal(basis.get("amount", "0")))),
    ]
    if credit:
        closing.append(("Montant HT crédité par cet avoir", eur(line.amount_excl_tax)))
    return AnnexBlock(line.designation, rows, parts, tuple(closing))


def _identifiers(siren: str | None, siret: str | None) -> str:
    return f"SIREN : {siren or '—'} — SIRET : {siret or '—'}"


def _nature_lines(invoice: Invoice) -> tuple[str, ...]:
    lines = [
        "Refacturation à prix coûtant de la quote-part des services mutualisés du pôle "
        f"(période du {fr_date(invoice.service_start)} au {fr_date(invoice.service_end)}).",
    ]
    original = invoice.original if invoice.is_credit_note else None
    if original is not None:
        lines.append(f"Avoir sur la facture n° {original.number} du "
                     f"{fr_date(original.issue_date)} — motif : {invoice.reason}")
    return tuple(lines)


def _line_rows(invoice: Invoice) -> tuple[tuple[str, str, str, str, str, str, str], ...]:
    exempt = VatRegime.EXEMPT_261B.value
    return tuple(
        (
            line.designation, "1 forfait", eur(line.amount_excl_tax), eur(line.amount_excl_tax),
            "Exonéré" if line.vat_regime == exempt else rate(line.vat_rate),
            eur(line.vat_amount), eur(line.amount_incl_tax),
        )
        for line in invoice.lines
    )


def page_of(invoice: Invoice) -> Page:
    """The page of an issued invoice or credit note (a draft has none)."""
    if invoice.number is None:
        raise ValueError("a draft has no document: issue it first")
    credit = invoice.is_credit_note
    exempt = VatRegime.EXEMPT_261B.value
    title = invoice.title  # « FACTURE », « AVOIR » or « APPEL DE FONDS » N° …
    what = "l'avoir" if credit else "l'appel de fonds" if invoice.is_call else "la facture"
    iban = f"IBAN : {invoice.carrier_iban or '—'}" + (
        f" — BIC : {invoice.carrier_bic}" if invoice.carrier_bic else "")
    return Page(
        title=title,
        carrier_name=invoice.carrier_name,
        carrier_lines=tuple(invoice.carrier_postal.text_lines()),
        carrier_ids=(
            _identifiers(invoice.carrier_siren, invoice.carrier_siret),
            f"N° TVA intracommunautaire : {invoice.carrier_vat_number or '—'}",
            iban,
            f"Courriel : {invoice.carrier_email or '—'}",
        ),
        refs=(
            ("Date", fr_date(invoice.issue_date)),
            ("Échéance", "—" if credit else fr_date(invoice.due_date)),
            ("Période", f"du {fr_date(invoice.service_start)} au "
                        f"{fr_date(invoice.service_end)}"),
            ("Code adhérent", invoice.customer_code or "—"),
        ),
        nature=f"Nature de l'opération : {OPERATION_NATURE.lower()}",
        nature_lines=_nature_lines(invoice),
        customer_name=invoice.customer_name,
        customer_lines=tuple(invoice.customer_postal.text_lines()),
        customer_ids=(
            _identifiers(invoice.customer_siren, invoice.customer_siret),
            *([f"N° TVA : {invoice.customer_vat_number}"] if invoice.customer_vat_number
              else []),
        ),
        lines=_line_rows(invoice),
        vat=tuple(
            (
                f"Exonéré — {invoice.vat_exemption_mention}" if total.regime == exempt
                else f"TVA {rate(total.rate)}",
                eur(total.base), eur(total.vat),
            )
            for total in invoice.vat_totals
        ),
        totals=(
            ("Total HT", eur(invoice.total_excl_tax)),
            ("Total TVA", eur(invoice.total_vat)),
            ("Total TTC", eur(invoice.total_incl_tax)),
            ("Montant de l'avoir" if credit else "Net à payer", eur(invoice.total_incl_tax)),
        ),
        mentions=tuple(text for text, _lines in workbook_mentions(invoice)),
        annex_title=f"Annexe — base de calcul de {what} n° {invoice.number}",
        annex=tuple(_annex_block(line, credit) for line in invoice.lines),
    )
