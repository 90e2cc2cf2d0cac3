"""Benchmark of issue 18: drawing and sealing the Factur-X PDFs of 1 000 invoices.

    .venv/bin/python bench/bench_facturx.py                  # 1 000 invoices, SQLite
    .venv/bin/python bench/bench_facturx.py --members 100    # fewer

Target (issue 18): drawing the pages (fpdf2, PDF/A-3b) and embedding the EN 16931 XML
(factur-x, with its XSD check) for 1 000 invoices in at most 60 s, memory flat. The documents
go through ``facturx_pdfs`` as ``mutualise export invoices`` does (drawing in one process per
CPU) into a ZIP written to a file on disk, as the export does. Printed: the total, the time
per document and per step (page text, drawing, XML, embedding) on the first 20, the peak
resident memory (VmHWM) of the parent and of each worker after 100 documents, half of them and
all of them (flat: the later figures do not grow with the count), the ZIP's size, and the
machine's load average before and after (the machine is shared). Exits with status 1 when the
target is missed (1 000 documents or more).

Baseline: the bare library on a page of the same amount of text — fpdf2 writing 60 lines in
a core font (nothing embedded), no PDF/A.

The data is the one of bench_invoices (members with valid SIRET, an equal key, an approved
allocation) in a fresh SQLite database; the invoices are issued through the domain.
"""

from __future__ import annotations

import argparse
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


def peak_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM, Linux /proc) of a process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1000
    return 0.0


def workers_peak_mb() -> list[float]:
    """Peak resident memory of each child process (the drawing workers)."""
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pids = children.read().split()
    except OSError:
        return []
    peaks = []
    for child in pids:
        try:
            peaks.append(peak_mb(child))
        except OSError:
            continue
    return peaks


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
    """Seconds per document of each step, on the first 20, in this process."""
    from accounting.facturx.drawing import draw
    from accounting.facturx.page import page_of

    sample = invoices[:20]
    pages = [page_of(invoice) for invoice in sample]
    figures = {}
    for name, step, items in (("page text", page_of, sample), ("draw PDF/A-3b", draw, pages),
                              ("CII XML", renderer.facturx_xml, sample)):
        start = time.perf_counter()
        for item in items:
            step(item)
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
    from fpdf import FPDF

    start = time.perf_counter()
    for _ in range(count):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        for _ in range(60):
            pdf.text(20, pdf.y, "Ligne de texte d'une facture simple.")
            pdf.y += 4
        pdf.output()
    return (time.perf_counter() - start) / count


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def draw_all(invoices: list[Invoice], target: str) -> tuple[float, float, list[str]]:
    """Every document into a ZIP on disk; the seconds, the CPU seconds (parent and workers,
    which have ended when the drawing is over) and the memory marks."""
    cpu = cpu_seconds()
    marks = sorted({min(100, len(invoices)), len(invoices) // 2, len(invoices)})
    memory = []
    start = time.perf_counter()
    with open(target, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for n, (invoice, pdf) in enumerate(renderer.facturx_pdfs(invoices), start=1):
            archive.writestr(invoice.pdf_name, pdf)
            if n in marks:
                workers = ", ".join(f"{mb:.0f}" for mb in workers_peak_mb()) or "none"
                memory.append(f"after {n}: parent {peak_mb():.0f} MB, workers {workers} MB")
    return time.perf_counter() - start, cpu_seconds() - cpu, memory


def bench(members: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        with engine.begin() as conn:
            metadata.create_all(conn)
        invoices = issued(engine, members)
        renderer.facturx_pdf(invoices[0])  # fonts and schemas loaded once, as in a server
        print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs", flush=True)
        steps(invoices)
        target = f"{folder}/factures.zip"
        seconds, cpu, memory = draw_all(invoices, target)
        size = os.path.getsize(target)
        engine.dispose()
    per_bare = bare(20)
    missed = seconds > TARGET and members >= 1000
    verdict = "n/a" if members < 1000 else "MISSED" if missed else "OK"
    print(f"{len(invoices)} Factur-X PDFs drawn and sealed   {seconds:8.1f} s  "
          f"({seconds / len(invoices) * 1000:.0f} ms each)  target <= {TARGET:.0f} s for 1 000 "
          f"({verdict})", flush=True)
    print(f"CPU time, parent and workers: {cpu:.1f} s ({cpu / len(invoices) * 1000:.0f} ms a "
          f"document; on {os.cpu_count()} idle CPUs the wall time would be about "
          f"{cpu / (os.cpu_count() or 1):.0f} s)", flush=True)
    print(f"bare fpdf2, one plain page of text (core font): {per_bare * 1000:.1f} ms each; "
          f"ratio {seconds / len(invoices) / per_bare:.1f}x", flush=True)
    print("peak resident memory (VmHWM): " + "; ".join(memory), flush=True)
    print(f"zip on disk {size / 1e6:.1f} MB ({size / len(invoices) / 1e3:.0f} kB a document)",
          flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)
    return not missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    sys.exit(0 if bench(args.members) else 1)


if __name__ == "__main__":
    main()
