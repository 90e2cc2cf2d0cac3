"""Excel invoices re-opened with openpyxl: values, totals, every mandatory mention, the annex,
no formula from user text; the ZIP of a period; one document converted to PDF by LibreOffice."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounting.invoicing.services import create_credit_note, issue_invoices, prepare_invoices
from accounting.org import VatRegime
from accounting.workbooks.invoice import invoice_bytes, write_invoices_zip
from tests.conftest import require_tool
from tests.invoices.conftest import ISSUED_ON

D = Decimal


@pytest.fixture
def issued(db, billing):
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=ISSUED_ON)


def texts(sheet) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def money(value) -> Decimal:
    """A number read back by openpyxl (a float) as the exact amount it was written as."""
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def find(sheet, label: str) -> Decimal:
    """The amount right of a label in the totals box (label in D, value in F)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == label:
                return money(sheet.cell(row=cell.row, column=6).value)
    raise AssertionError(f"{label!r} not found")


def reopen(invoice):
    return load_workbook(io.BytesIO(invoice_bytes(invoice)))


def test_the_invoice_sheet_has_the_parties_lines_vat_and_totals(issued):
    book = reopen(issued[0])
    assert book.sheetnames == ["Facture", "Annexe"]
    sheet = book["Facture"]
    words = "\n".join(texts(sheet))
    assert "FACTURE N° 2026-0001" in words
    assert "Association Val Horizon" in words
    assert "SIREN : 782899439 — SIRET : 78289943900015" in words
    assert "N° TVA intracommunautaire : FR81782899439" in words
    assert "IBAN : FR7630006000011234567890189 — BIC : AGRIFRPP" in words
    assert "Les Jardins de la Dombes" in words and "SIREN : 448290122" in words
    assert "05/02/2026" in words and "07/03/2026" in words
    assert ("Comptabilité / gestion — janvier 2026 — 25 % part égale (1 part sur 3) + 75 % au "
            "prorata des heures (10 h sur 60 h)") in words
    assert find(sheet, "Total HT") == D("3333.34")
    assert find(sheet, "Total TVA") == D("666.67")
    assert find(sheet, "Net à payer") == D("4000.01")
    assert "TVA 20 %" in words
    assert int(sheet.page_setup.paperSize) == 9  # A4


@pytest.mark.parametrize(
    "mention",
    [
        "Escompte pour paiement anticipé : néant.",
        "Pénalités de retard : taux annuel de 12 %",
        "Indemnité forfaitaire pour frais de recouvrement",
        "40,00\u00a0€",
        "Nature de l'opération : prestations de services",
        "SIREN du client : 448290122.",
        "Date d'échéance : 07/03/2026 (30 jours après la date de facture).",
    ],
)
def test_every_mandatory_mention_is_written(issued, mention):
    assert mention in "\n".join(texts(reopen(issued[0])["Facture"]))


def test_an_exempt_invoice_gives_the_legal_ground_and_no_vat(db, billing):
    billing.carrier.vat_regime = VatRegime.EXEMPT_261B
    prepare_invoices(db, billing.period)
    invoice = issue_invoices(db, billing.period, issue_date=ISSUED_ON)[1]
    sheet = reopen(invoice)["Facture"]
    words = "\n".join(texts(sheet))
    assert "Exonéré — Exonération de TVA – article 261 B du CGI" in words
    assert "Exonération de TVA – article 261 B du CGI. Refacturation" in words
    assert find(sheet, "Total TVA") == D("0.00")
    assert find(sheet, "Net à payer") == D("5333.33")


def test_the_annex_shows_the_figures_behind_each_line(issued):
    annex = reopen(issued[2])["Annexe"]
    words = texts(annex)
    assert "Annexe — base de calcul de la facture n° 2026-0003" in words
    assert "25 % part égale + 75 % au prorata des heures" in words
    assert "30 h" in words and "60 h" in words and "1 part" in words
    values = [money(c.value) for row in annex.iter_rows() for c in row
              if isinstance(c.value, int | float)]
    assert D("16000.00") in values  # the pool
    assert D("7333.33") in values  # C's share
    assert D("50.00") in values  # 30 h of 60 h, in percent


def test_a_credit_note_cites_the_invoice_it_cancels(db, issued):
    note = create_credit_note(db, issued[0], amount=D("100.00"), reason="Geste",
                              issue_date=date(2026, 2, 10))
    book = reopen(note)
    assert book.sheetnames == ["Avoir", "Annexe"]
    words = "\n".join(texts(book["Avoir"]))
    assert "AVOIR N° 2026-0004" in words
    assert "Avoir sur la facture n° 2026-0001 du 05/02/2026" in words
    assert "Motif : Geste" in words
    assert "annule partiellement la facture n° 2026-0001" in words
    assert find(book["Avoir"], "Montant de l'avoir") == D("120.00")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+33 1", "-1+2", "@SUM(A1)"])
def test_user_text_beginning_like_a_formula_arrives_as_text(db, billing, text):
    member = billing.members["A"]
    member.name = text
    member.address = text
    billing.carrier.name = text
    prepare_invoices(db, billing.period)
    invoice = issue_invoices(db, billing.period, issue_date=ISSUED_ON)[0]
    book = reopen(invoice)
    # The customer's address cell is the text, then its postcode line (structured address).
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.split("\n")[0] == text]
    assert len(cells) >= 3
    assert all(c.data_type == "s" for c in cells)
    assert not [c for sheet in book for row in sheet.iter_rows() for c in row
                if c.data_type == "f"]


def test_the_period_zip_holds_one_file_per_document(db, issued):
    create_credit_note(db, issued[1], reason="Erreur", issue_date=date(2026, 2, 10))
    buffer = io.BytesIO()
    assert write_invoices_zip([*issued, issued[1].credit_notes[0]], buffer) == 4
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert archive.namelist() == [
            "FACTURE-2026-0001.xlsx", "FACTURE-2026-0002.xlsx", "FACTURE-2026-0003.xlsx",
            "AVOIR-2026-0004.xlsx"]
        book = load_workbook(io.BytesIO(archive.read("FACTURE-2026-0002.xlsx")))
        assert find(book["Facture"], "Net à payer") == D("6400.00")


@pytest.mark.slow
def test_libreoffice_converts_an_invoice_to_a_pdf_of_two_a4_pages(issued, tmp_path, output_dir):
    soffice = require_tool("soffice")
    source = tmp_path / issued[0].file_name
    source.write_bytes(invoice_bytes(issued[0]))
    result = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180, check=False,
    )
    pdf = tmp_path / "FACTURE-2026-0001.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    (output_dir / pdf.name).write_bytes(data)
    # Two printed pages: the invoice on one A4 page, the annex on the next.
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 2
