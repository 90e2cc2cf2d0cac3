"""Benchmark of issue 18: drawing and sealing the Factur-X PDFs of 1 000 invoices.

    .venv/bin/python bench/bench_facturx.py                  # 1 000 invoices, SQLite
    .venv/bin/python bench/bench_facturx.py --members 100    # fewer

Target (issue 18): rendering (WeasyPrint, PDF/A-3b) and embedding the EN 16931 XML (factur-x,
with its XSD check) for 1 000 invoices in at most 60 s, memory flat. The documents go through
``facturx_pdfs`` as ``mutualise export invoices`` does (layout in one process per CPU).
Printed: the total, the time per document and per step (HTML, layout to PDF, XML,
embedding) on the first 20, the process's resident memory after 10 %, 50 % and 100 % of the
documents (flat: the later figures do not grow with the count), and the machine's load
average (the machine is shared).

Baseline: the bare libraries on the same page — WeasyPrint laying out a minimal HTML page of
the same text size, and factur-x embedding the same XML.

The data is the one of bench_invoices (members with valid SIRET, an equal key, an approved
allocation) in a fresh SQLite database; the invoices are issued through the domain.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from accounting.facturx import pdf as renderer  # noqa: E402
from accounting.invoicing.models import Invoice  # noqa: E402
from accounting.invoicing.services import issue_invoices, prepare_invoices  # noqa: E402
from accounting.periods import get_or_create_period  # noqa: E402
from app.database import make_engine  # noqa: E402
from app.models import metadata  # noqa: E402
from bench.bench_invoices import build  # noqa: E402

TARGET = 60.0


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def issued(engine, members: int) -> list[Invoice]:
    session = Session(engine)
    with session.begin():
        build(session, members)
    period = get_or_create_period(session, "2026-01")
    prepare_invoices(session, period)
    issue_invoices(session, period, issue_date=date(2026, 2, 5))
    session.commit()
    return list(session.scalars(
        select(Invoice).where(Invoice.status != "draft").order_by(Invoice.sequence)
        .options(selectinload(Invoice.lines), selectinload(Invoice.original))
    ))


def steps(invoices: list[Invoice]) -> None:
    """Seconds per document of each step, on the first 20."""
    sample = invoices[:20]
    figures = {}
    for name, step in (("HTML", renderer.render_html), ("layout + PDF/A-3b", renderer.render_pdf),
                       ("CII XML", renderer.facturx_xml)):
        start = time.perf_counter()
        for invoice in sample:
            step(invoice)
        figures[name] = (time.perf_counter() - start) / len(sample)
    from facturx import generate_from_binary

    page, xml = renderer.render_pdf(sample[0]), renderer.facturx_xml(sample[0])
    start = time.perf_counter()
    for _ in sample:
        generate_from_binary(page, xml, flavor="factur-x", level="en16931", check_xsd=True)
    figures["embed XML (XSD check)"] = (time.perf_counter() - start) / len(sample)
    for name, seconds in figures.items():
        print(f"  per document, {name:<24} {seconds * 1000:8.1f} ms", flush=True)


def bare(count: int) -> float:
    from weasyprint import HTML

    html = "<html><body>" + "<p>Ligne de texte d'une facture simple.</p>" * 60 + "</body></html>"
    start = time.perf_counter()
    for _ in range(count):
        HTML(string=html).write_pdf()
    return (time.perf_counter() - start) / count


def bench(members: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        with engine.begin() as conn:
            metadata.create_all(conn)
        invoices = issued(engine, members)
        renderer.facturx_pdf(invoices[0])  # fonts and schemas loaded once, as in a server
        print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs", flush=True)
        steps(invoices)
        marks = {max(1, len(invoices) // 10), len(invoices) // 2, len(invoices)}
        memory = []
        buffer = io.BytesIO()
        start = time.perf_counter()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for n, (invoice, pdf) in enumerate(renderer.facturx_pdfs(invoices), start=1):
                archive.writestr(invoice.pdf_name, pdf)
                if n in marks:
                    memory.append((n, rss_mb()))
        seconds = time.perf_counter() - start
        engine.dispose()
    per_bare = bare(20)
    verdict = "OK" if seconds <= TARGET else "MISSED"
    print(f"{len(invoices)} Factur-X PDFs drawn and sealed   {seconds:8.1f} s  "
          f"({seconds / len(invoices) * 1000:.0f} ms each)  target <= {TARGET:.0f} s for 1 000 "
          f"({verdict if members >= 1000 else 'n/a'})", flush=True)
    print(f"bare WeasyPrint, one plain page of text: {per_bare * 1000:.0f} ms each; ratio "
          f"{seconds / len(invoices) / per_bare:.1f}x", flush=True)
    print("resident memory: " + ", ".join(f"{mb:.0f} MB after {n}" for n, mb in memory)
          + f" (peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000:.0f} MB); "
          f"zip {buffer.tell() / 1e6:.1f} MB", flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)
    return seconds <= TARGET or members < 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    sys.exit(0 if bench(args.members) else 1)


if __name__ == "__main__":
    main()
