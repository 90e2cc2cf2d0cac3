"""The drawn page of a Factur-X PDF (fpdf2): what a reader finds on it — the mandatory
mentions, the unit price column, French figures, the annex — read back with pypdf; long
documents break across pages with their headings repeated; the fonts are embedded (PDF/A)."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from accounting.facturx.drawing import AnnexBlock, Page, draw
from accounting.facturx.pdf import facturx_pdf
from accounting.invoicing.services import issue_invoices, prepare_invoices
from app.invoices.usecases import credit_invoice


def _pages(pdf: bytes) -> list[str]:
    """The text of each page, spaces normalised (Babel's narrow no-break spaces)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().replace("\u202f", " ").replace("\xa0", " ").split())
            for page in reader.pages]


def test_the_invoice_page_carries_the_mentions_the_unit_price_and_the_annex(db, billing):
    prepare_invoices(db, billing.period)
    invoice = issue_invoices(db, billing.period, issue_date=date(2026, 2, 5), issued_by="t")[0]
    first, annex = _pages(facturx_pdf(invoice))
    assert "FACTURE N° 2026-0001" in first
    assert "Prix unitaire HT" in first and "Quantité" in first and "1 forfait" in first
    # A: 3 333,34 € HT, 20 % VAT 666,67 €, 4 000,01 € TTC (DESIGN §4's worked example).
    assert "3 333,34 €" in first and "666,67 €" in first and "4 000,01 €" in first
    assert "Net à payer" in first
    assert "05/02/2026" in first  # issue date, French format
    for mention in ("Escompte pour paiement anticipé : néant",
                    "Pénalités de retard", "article L441-10 du Code de commerce",
                    "Indemnité forfaitaire pour frais de recouvrement", "40,00 €",
                    "Nature de l'opération : prestations de services", "SIREN",
                    "N° TVA intracommunautaire", "IBAN"):
        assert mention in first, mention
    assert "page 1 / 2" in first and "page 2 / 2" in annex
    assert "Annexe — base de calcul de la facture n° 2026-0001" in annex
    assert "Clé de répartition" in annex and "Arrondi au centime" in annex


def test_a_credit_note_cites_the_invoice_and_says_what_it_credits(db, billing):
    prepare_invoices(db, billing.period)
    invoice = issue_invoices(db, billing.period, issue_date=date(2026, 2, 5), issued_by="t")[0]
    note = credit_invoice(db, invoice, reason="Double facturation", issued_by="t",
                          issue_date=date(2026, 2, 6))
    first, annex = _pages(facturx_pdf(note))
    assert f"AVOIR N° {note.number}" in first
    assert "Avoir sur la facture n° 2026-0001 du 05/02/2026" in first
    assert "Double facturation" in first and "Montant de l'avoir" in first
    assert "Montant HT crédité par cet avoir" in annex


def _long_page(lines: int) -> Page:
    return Page(
        title="FACTURE N° 2099-0001", carrier_name="Pôle", carrier_lines=("1 rue A",),
        carrier_ids=("SIREN : 1",), refs=(("Date", "01/01/2099"),), nature="Nature",
        nature_lines=("Texte",), customer_name="Client", customer_lines=("2 rue B",),
        customer_ids=(), vat=(("TVA 20 %", "1,00 €", "0,20 €"),),
        lines=tuple((f"Service n° {n} " + "avec une désignation longue " * 2, "1 forfait",
                     "1,00 €", "1,00 €", "20 %", "0,20 €", "1,20 €") for n in range(lines)),
        totals=(("Total HT", "1,00 €"), ("Total TVA", "0,20 €"), ("Total TTC", "1,20 €"),
                ("Net à payer", "1,20 €")),
        mentions=("Mention légale.",) * 8, annex_title="Annexe",
        annex=tuple(AnnexBlock(f"Bloc {n}", rows=(("Clé de répartition", "égale"),),
                               parts=(("100 % — égale", "1", "2", "50 %", "2 €", "1 €"),),
                               closing=(("Montant réparti", "1,00 €"),))
                    for n in range(lines)),
    )


def test_a_long_document_breaks_across_pages_with_its_headings_repeated():
    pages = _pages(draw(_long_page(60)))
    assert len(pages) >= 5
    text = " ".join(pages)
    for n in range(60):  # every line and every annex block, none lost at a page break
        assert f"Service n° {n} " in text and f"Bloc {n} " in text
    with_lines = [page for page in pages if "Service n°" in page]
    assert len(with_lines) >= 2
    assert all("Désignation" in page and "Prix unitaire HT" in page for page in with_lines)
    blocks = [page for page in pages if "Bloc " in page]
    assert all("Partie de la clé" in page for page in blocks)
    assert f"page {len(pages)} / {len(pages)}" in pages[-1]


def test_the_fonts_are_embedded_as_pdf_a_asks():
    reader = PdfReader(io.BytesIO(draw(_long_page(1))))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert "/ToUnicode" in font  # the text can be searched and copied
