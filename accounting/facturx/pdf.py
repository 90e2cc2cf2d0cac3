"""The Factur-X PDF of an issued invoice or credit note: its page drawn as PDF/A-3b by fpdf2
(:mod:`accounting.facturx.drawing`, from :mod:`accounting.facturx.page`), with its CII XML
embedded as ``factur-x.xml`` by the ``factur-x`` package (Factur-X EN 16931).

The ``factur-x`` package adds the XML with the Factur-X XMP extension and
``AFRelationship=Data``, and checks the XML against the Factur-X XSD before embedding it.

Many documents (a period's export) are drawn in worker processes, a few in flight at a time:
the parent builds each document's page text and XML from the database (a few ms), the workers
draw and seal (:func:`facturx_pdfs`). Why fpdf2 rather than WeasyPrint: see
:mod:`accounting.facturx.drawing` and README « Factur-X » (speed).
"""

from __future__ import annotations

import os
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from accounting.facturx.cii import build_cii
from accounting.facturx.document import facturx_document
from accounting.facturx.drawing import draw
from accounting.facturx.page import page_of
from accounting.facturx.seal import Job, run_job
from accounting.invoicing.models import Invoice


def render_pdf(invoice: Invoice) -> bytes:
    """The PDF/A-3b page of the document, without the XML."""
    return draw(page_of(invoice))


def facturx_xml(invoice: Invoice) -> bytes:
    return build_cii(facturx_document(invoice))


def job(invoice: Invoice, xml: bytes | None = None) -> Job:
    kind = invoice.kind_label
    return Job(
        page=page_of(invoice),
        xml=xml if xml is not None else facturx_xml(invoice),
        metadata={
            "author": invoice.carrier_name,
            "keywords": "Factur-X, facture",
            "title": f"{kind} {invoice.number}",
            "subject": f"{kind} {invoice.number} — {invoice.customer_name}",
        },
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
