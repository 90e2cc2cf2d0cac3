"""The workbooks as printed: the demo cluster's quarter allocated, approved and invoiced, its
allocation, invoice, ledger and timesheet workbooks converted to PDF by LibreOffice headless,
and the PDF read back with poppler's ``pdfinfo`` / ``pdftotext``.

What a board meeting needs from the paper: A4 landscape pages (the invoice workbook too; the
document sent to a member is the Factur-X PDF, portrait), every column on the page (fit to
width: the last column's header is on every page), the header row repeated on every page,
« Page n / N » at the bottom, text of a readable size (fit to width, never to one page), no
wrapped text overlapping the next row, no label cut.

The PDFs and a 50-dpi PNG of their first pages are kept in the test's output folder for a person
to look at.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import fresh_database_url, require_tool

pytestmark = pytest.mark.slow

#: A4 in points, landscape (width, height).
A4_LANDSCAPE = (841.89, 595.30)

_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class Printed:
    """A PDF read back: page sizes, the text and the words (with their boxes) of each page."""

    path: Path
    sizes: list[tuple[float, float]]
    texts: list[str]
    words: list[list[Word]]

    @property
    def pages(self) -> int:
        return len(self.sizes)


def _read_pdf(path: Path) -> Printed:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(path)], check=True,
                          capture_output=True, text=True).stdout
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", info)]
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    texts = text.split("\f")[: len(sizes)]
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout
    words = [
        [Word(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(p)]
        for p in boxes.split("<page ")[1:]
    ]
    return Printed(path, sizes, texts, words)


def _overlapping(page: list[Word]) -> list[tuple[str, str]]:
    """Pairs of words drawn over each other (a wrapped cell running into the next row)."""
    found = []
    ordered = sorted(page, key=lambda w: w.x0)
    for index, a in enumerate(ordered):
        for b in ordered[index + 1:]:
            if b.x0 >= a.x1:
                break
            dx = min(a.x1, b.x1) - max(a.x0, b.x0)
            dy = min(a.y1, b.y1) - max(a.y0, b.y0)
            if dx > 1 and dy > 0.5 * min(a.height, b.height):
                found.append((a.text, b.text))
    return found


def _write_workbooks(folder: Path, database_url: str) -> str:
    """The demo, its last quarter approved and invoiced; the five workbooks in ``folder``."""
    from accounting.invoicing.models import Invoice
    from accounting.org import Role, User
    from accounting.periods import get_or_create_period
    from accounting.workbooks.invoice import invoice_bytes
    from accounting.workbooks.ledger import write_ledger_workbook
    from app.allocation.workbook import workbook_for
    from app.demo import DEMO_USERS
    from tests.browser.conftest import build_server
    from tests.browser.test_every_page import _arrange
    from timesheets.export import write_entries_xlsx, write_summary_xlsx
    from timesheets.listing import EntryFilter, export_rows
    from timesheets.summaries import monthly_summary

    server = build_server(database_url)
    values = _arrange(server)
    with server.session() as db:
        period = get_or_create_period(db, values["period_code"])
        with open(folder / "allocation.xlsx", "wb") as handle:
            workbook_for(db, period, handle)
        (folder / "invoice.xlsx").write_bytes(invoice_bytes(db.get(Invoice, values["invoice_id"])))
        write_ledger_workbook(db, None, None, folder / "ledger.xlsx")
        email = next(u.email for u in DEMO_USERS if u.role is Role.ADMIN)
        admin = db.scalars(select(User).where(User.email == email)).one()
        admin.role_set = {Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER}
        write_entries_xlsx(export_rows(db, admin, EntryFilter(start=period.start, end=period.end)),
                           str(folder / "timesheet.xlsx"))
        write_summary_xlsx(monthly_summary(db, period.start, period.end),
                           str(folder / "summary.xlsx"))
    server.stop()
    return str(values["period_code"])


@pytest.fixture(scope="module")
def printed(database_url: str, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[dict[str, Printed]]:
    soffice = require_tool("soffice")
    require_tool("pdftotext")
    folder = tmp_path_factory.mktemp("print")
    for url in fresh_database_url(database_url, tmp_path_factory.mktemp("print-db")):
        _write_workbooks(folder, url)
    books = sorted(folder.glob("*.xlsx"))
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{folder}/lo", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(folder / "pdf"), *map(str, books)],
        check=True, capture_output=True, timeout=300,
    )
    yield {book.stem: _read_pdf(folder / "pdf" / f"{book.stem}.pdf") for book in books}


def _keep(printed: Printed, output_dir: Path) -> None:
    """The PDF and a PNG of its first two pages, for a person to look at."""
    target = output_dir / printed.path.name
    target.write_bytes(printed.path.read_bytes())
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(target),
                    str(output_dir / printed.path.stem)], check=True)


def _median_height(page: list[Word]) -> float:
    return statistics.median(w.height for w in page)


def _header_on_top(page: list[Word], height: float, first: str, last: str) -> bool:
    """The words of the first and the last column's headers, left to right, in the top fifth
    of the page: the header row is repeated there and no column went to another page."""
    top = [w for w in page if w.y1 < height / 5]
    return any(a.text == first and b.text == last and a.x1 < b.x0
               for a in top for b in top)


@pytest.mark.parametrize(
    ("book", "headers"),
    [
        # per sheet: the first word of the first column, the last word of the last column
        ("ledger", [("Date", "Crédit"), ("Date", "Solde"), ("Compte", "créditeur")]),
        ("timesheet", [("Date", "Statut")]),
        ("summary", [("Mois", "pondérées"), ("Mois", "commun")]),
    ],
)
def test_streamed_exports_print_landscape_with_every_column_and_the_header_on_each_page(
    printed: dict[str, Printed], book: str, headers: list[tuple[str, str]], output_dir: Path,
) -> None:
    pdf = printed[book]
    _keep(pdf, output_dir)
    assert pdf.pages >= 2
    for number, (size, text) in enumerate(zip(pdf.sizes, pdf.texts, strict=True), start=1):
        assert size == pytest.approx(A4_LANDSCAPE, abs=1), f"page {number} of {book}: {size}"
        words = pdf.words[number - 1]
        assert any(_header_on_top(words, size[1], *pair) for pair in headers), number
        assert re.search(rf"Page {number} / {pdf.pages}\s*$", text.rstrip()), number
        assert not _overlapping(words), (number, _overlapping(words))
        assert _median_height(words) >= 7.5, number  # see the allocation test below


def test_the_allocation_workbook_prints_each_sheet_readable_and_uncut(
    printed: dict[str, Printed], output_dir: Path,
) -> None:
    pdf = printed["allocation"]
    _keep(pdf, output_dir)
    # Synthèse, the two demo services with a key, Charges, Temps: one page or more each
    assert pdf.pages >= 5
    for number, (size, text) in enumerate(zip(pdf.sizes, pdf.texts, strict=True), start=1):
        assert size == pytest.approx(A4_LANDSCAPE, abs=1), number
        assert re.search(rf"Page {number} / {pdf.pages}\s*$", text.rstrip()), number
        words = pdf.words[number - 1]
        assert not _overlapping(words), (number, _overlapping(words))
        # 10-point text printed at 100 % gives word boxes about 11.3 points tall; fitting a
        # sheet to one page made the service sheets' ~7.8: at least 75 % of the size here.
        assert _median_height(words) >= 8.5, number
    service = pdf.texts[1]
    # the pool block's labels are whole (they used to be cut: « Frais de struc »)
    flat = " ".join(service.split())
    assert "Frais de structure" in flat and "Montant à répartir" in flat
    assert "Montant attendu (à répartir)" in " ".join(pdf.texts[0].split())


def test_the_invoice_prints_on_landscape_pages_with_its_annex_uncut(
    printed: dict[str, Printed], output_dir: Path,
) -> None:
    pdf = printed["invoice"]
    _keep(pdf, output_dir)
    assert pdf.pages == 2  # the document, then its annex
    for number, size in enumerate(pdf.sizes, start=1):
        assert size == pytest.approx(A4_LANDSCAPE, abs=1)
        assert f"Page {number} / 2" in pdf.texts[number - 1]
        words = pdf.words[number - 1]
        assert not _overlapping(words), _overlapping(words)
        # printed at 100 % (the columns fill the landscape width, nothing shrunk): the
        # portrait document's word boxes were 9.6 points tall
        assert _median_height(words) >= 9.5, number
    # the lines' header row whole, on one line (its first and its last column)
    assert re.search(r"Désignation .*Montant TTC", pdf.texts[0])
    annex = " ".join(pdf.texts[1].split())
    # the key's words are printed whole, wrapped inside the annex's width
    assert "au prorata des heures, travail commun à parts égales" in annex
