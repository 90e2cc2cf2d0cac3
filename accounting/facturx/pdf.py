"""The PDF of an issued invoice or credit note: PDF/A-3b drawn by WeasyPrint from HTML, with
its CII XML embedded as ``factur-x.xml`` by the ``factur-x`` package (Factur-X EN 16931).

Why WeasyPrint: it writes PDF/A-3b itself (output intent, embedded fonts, XMP), lays out
HTML/CSS (tables that break across pages with their header repeated, page counters) and is a
Python package (pango from Debian; no office suite started per document). The ``factur-x``
package then adds the XML with the Factur-X XMP extension and ``AFRelationship=Data``, and
checks the XML against the Factur-X XSD before embedding it.

The page is drawn from the document's own snapshot, the same data and the same legal mentions
as the workbook (:mod:`accounting.workbooks.invoice`), in French (Babel: « 1 234,56 € »,
« 10/04/2025 »), with a unit price column and the annex that explains the allocation.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from accounting.facturx.cii import build_cii
from accounting.facturx.document import facturx_document
from accounting.invoicing.amounts import OPERATION_NATURE
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.org import VatRegime
from accounting.workbooks.invoice import _mentions as workbook_mentions

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_LOCAL = threading.local()


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


def _annex_block(line: InvoiceLine, credit: bool) -> dict[str, Any]:
    basis = line.basis or {}
    block: dict[str, Any] = {"designation": line.designation, "basis": bool(basis)}
    if not basis:
        return block
    block["rows"] = [
        ("Charges du service sur la période", eur(_decimal(basis.get("costs")))),
        ("Subventions déduites", eur(_decimal(basis.get("subsidies")))),
        ("Quote-part des frais de structure", eur(_decimal(basis.get("overheads")))),
        ("Montant à répartir entre les adhérents", eur(_decimal(basis.get("pool")))),
    ]
    block["key"] = basis.get("key_fr", basis.get("key", ""))
    block["parts"] = [
        {
            "label": f"{part.get('weight', '')} % — {part.get('basis', '')}"
            + (" (travail commun)" if part.get("common") else ""),
            "value": part.get("value", ""),
            "total": part.get("total", ""),
            "share": format_decimal(Decimal(part.get("share_percent", "0")),
                                    format="0.0000", locale="fr_FR") + "\u00a0%",
            "pool": eur(Decimal(part.get("pool", "0"))),
            "exact": eur(Decimal(part.get("exact", "0")), places=6),
        }
        for part in basis.get("parts", [])
    ]
    block["closing"] = [
        ("Part exacte de l'adhérent", eur(Decimal(basis.get("exact", "0")), places=6)),
        ("Arrondi au centime (plus forts restes)", eur(Decimal(basis.get("adjustment", "0")))),
        ("Montant réparti à l'adhérent", eur(Decimal(basis.get("amount", "0")))),
    ]
    if credit:
        block["closing"].append(("Montant HT crédité par cet avoir", eur(line.amount_excl_tax)))
    return block


def render_html(invoice: Invoice) -> str:
    if invoice.number is None:
        raise ValueError("a draft has no document: issue it first")
    credit = invoice.is_credit_note
    title = f"{'AVOIR' if credit else 'FACTURE'} N° {invoice.number}"
    return _ENV.get_template("invoice.html").render(
        d=invoice,
        title=title,
        credit=credit,
        original=invoice.original if credit else None,
        nature=OPERATION_NATURE.lower(),
        carrier_lines=invoice.carrier_postal.text_lines(),
        customer_lines=invoice.customer_postal.text_lines(),
        mentions=[text for text, _lines in workbook_mentions(invoice)],
        annex=[_annex_block(line, credit) for line in invoice.lines],
        exempt=VatRegime.EXEMPT_261B.value,
        eur=eur, date=fr_date, rate=rate,
    )


def _font_config() -> Any:
    """One WeasyPrint font configuration per thread: fonts are looked up once."""
    from weasyprint.text.fonts import FontConfiguration

    if not hasattr(_LOCAL, "fonts"):
        _LOCAL.fonts = FontConfiguration()
    return _LOCAL.fonts


def _html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf(
        pdf_variant="pdf/a-3b", font_config=_font_config(), uncompressed_pdf=False,
    )


def render_pdf(invoice: Invoice) -> bytes:
    """The PDF/A-3b page of the document, without the XML."""
    return _html_to_pdf(render_html(invoice))


def facturx_xml(invoice: Invoice) -> bytes:
    return build_cii(facturx_document(invoice))


@dataclass(frozen=True)
class Job:
    """What drawing and sealing one document needs, as plain picklable data."""

    html: str
    xml: bytes
    metadata: dict[str, str]


def job(invoice: Invoice, xml: bytes | None = None) -> Job:
    kind = "Avoir" if invoice.is_credit_note else "Facture"
    return Job(
        html=render_html(invoice),
        xml=xml if xml is not None else facturx_xml(invoice),
        metadata={
            "author": invoice.carrier_name,
            "keywords": "Factur-X, facture",
            "title": f"{kind} {invoice.number}",
            "subject": f"{kind} {invoice.number} — {invoice.customer_name}",
        },
    )


def run_job(work: Job) -> bytes:
    """The Factur-X PDF of a job: the page as PDF/A-3b with the XML embedded (checked against
    the Factur-X XSD on the way: an invalid XML raises)."""
    from facturx import generate_from_binary

    return generate_from_binary(
        _html_to_pdf(work.html), work.xml, flavor="factur-x", level="en16931",
        check_xsd=True, lang="fr-FR", pdf_metadata=work.metadata,
    )


def facturx_pdf(invoice: Invoice, xml: bytes | None = None) -> bytes:
    """The Factur-X PDF of one document (see :func:`run_job`)."""
    return run_job(job(invoice, xml))


#: Below this many documents, drawing in one process is quicker than starting workers.
PARALLEL_FROM = 40


def facturx_pdfs(invoices: Iterable[Invoice], workers: int | None = None,
                 ) -> Iterator[tuple[Invoice, bytes]]:
    """(document, Factur-X PDF) in order. The page layout (most of the time) runs in
    ``workers`` processes (default: the CPUs) for many documents; the parent builds each
    document's HTML and XML (a few ms) and keeps at most a few per worker in flight, so memory
    stays flat whatever the count."""
    documents = list(invoices)
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(documents) < PARALLEL_FROM:
        for invoice in documents:
            yield invoice, facturx_pdf(invoice)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # no copy of the parent's connections
    window = workers * 4
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[tuple[Invoice, Any]] = deque()
        for invoice in documents:
            pending.append((invoice, pool.submit(run_job, job(invoice))))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def write_documents_zip(invoices: Iterable[Invoice], target: IO[bytes]) -> int:
    """Every document as its workbook (``FACTURE-….xlsx``) and its Factur-X PDF
    (``FACTURE-….pdf``) side by side in one ZIP, one document at a time (memory stays flat).
    Both formats are compressed already: stored, not compressed twice."""
    from accounting.workbooks.invoice import write_invoice

    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for invoice, pdf in facturx_pdfs(invoices):
            with archive.open(invoice.file_name, "w") as member:
                write_invoice(invoice, member)
            archive.writestr(invoice.pdf_name, pdf)
            count += 1
    return count
