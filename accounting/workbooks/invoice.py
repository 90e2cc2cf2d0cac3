"""Excel invoices and credit notes (openpyxl): one printable A4 sheet per document, plus an
annex sheet with the allocation figures behind each line; all the documents of a period in one
ZIP.

Design: the document is drawn from the issued invoice's own snapshot (identities, terms, lines,
VAT), never from the live member or carrier, so a file made today and in ten years is the same.
Every mandatory mention of DESIGN §5 is written (CGI ann. II art. 242 nonies A; Code de
commerce L441-9, L441-10, D441-5; e-invoicing reform: nature of the operation and the
customer's SIREN). Every text that a user could have typed goes through
:func:`accounting.workbooks.cells.put_text`: it arrives as text, never as a formula. Amounts
are numbers (``Decimal``, exact) with a euro format; totals are the stored totals, not Excel
formulas, so the file shows what was issued even where formulas are not computed.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterable
from copy import copy
from datetime import date
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from accounting.invoicing.amounts import (
    DISCOUNT_MENTION,
    OPERATION_NATURE,
    RECOVERY_INDEMNITY,
    format_eur,
)
from accounting.invoicing.models import Invoice, InvoiceLine
from accounting.org import VatRegime
from accounting.workbooks.cells import put_text
from accounting.workbooks.printing import FOOTER, lines_needed

EUR = '#,##0.00\\ "€";-#,##0.00\\ "€"'
PERCENT = '0.00\\ "%"'
DATE = "DD/MM/YYYY"

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=16, color="1F6F5C")
_NAME = Font(bold=True, size=13)
_SMALL = Font(size=9)
_MUTED = Font(size=9, color="5B6475")
_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F6F5C")
_BOX_FILL = PatternFill("solid", fgColor="EEF1F6")
_WRAP = Alignment(wrap_text=True, vertical="top")
_RIGHT = Alignment(horizontal="right", vertical="top")
_CENTER = Alignment(horizontal="center", vertical="top")
_TITLE_RIGHT = Alignment(horizontal="right")
_HEAD_CENTER = Alignment(wrap_text=True, horizontal="center")
_THIN = Side(style="thin", color="B8C0CC")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TOP = Border(top=Side(style="medium", color="1D2433"))

#: Column widths of the document sheet: A designation, B quantity, C amount excl. tax,
#: D VAT rate, E VAT, F amount incl. tax (fill an A4 landscape page at 100 %: the designations
#: wrap on fewer lines than in portrait, the type is the same size).
_WIDTHS = {"A": 88, "B": 10, "C": 15, "D": 10, "E": 13, "F": 15}


def _date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _rate(value: Decimal) -> str:
    """« 20 % », « 12,5 % » (a rate as said in a sentence)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %"


#: The style lists of a workbook (fonts, fills, borders, alignments, number formats...).
_STYLE_LISTS = (
    "_fonts", "_fills", "_borders", "_alignments", "_protections", "_number_formats",
    "_date_formats", "_timedelta_formats", "_cell_styles",
)

#: Per thread (a web server may draw two documents at once): the style lists every invoice
#: workbook of the thread shares, and the style (a ``StyleArray`` of indices into them)
#: reached from a cell's style by a set of changes.
_HOUSE = threading.local()


def _house() -> Any:
    if not hasattr(_HOUSE, "lists"):
        template = Workbook()
        _HOUSE.lists = {name: getattr(template, name) for name in _STYLE_LISTS}
        _HOUSE.styles = {}
    return _HOUSE


def _new_workbook() -> Workbook:
    """A workbook whose style lists are the thread's shared ones.

    Why: openpyxl registers a cell's font, fill, border or alignment by hashing the whole
    style object into the workbook's lists; a document sets a few hundred of them but uses
    about fifty distinct combinations, always the same. With shared lists, each combination
    is registered once per process (not once per workbook) and every later cell only gets a
    copy of its ``StyleArray``. A workbook's stylesheet then lists the styles registered so
    far (a few dozen; unused ones are harmless).
    """
    workbook = Workbook()
    house = _house()
    for name, shared in house.lists.items():
        setattr(workbook, name, shared)
    workbook._mutualise_house = house
    return workbook


def _style(cell: Any, **changes: Any) -> None:
    """Set ``font``, ``fill``, ``border``, ``alignment`` or ``number_format`` on a cell of a
    workbook made by :func:`_new_workbook`: the combination reached from the cell's current
    style is computed once per thread and copied (the styles used here are module constants,
    so their ids are stable keys)."""
    cache = _house().styles
    key = (
        tuple(cell._style or ()),
        tuple((k, v if isinstance(v, str) else id(v)) for k, v in sorted(changes.items())),
    )
    found = cache.get(key)
    if found is None:
        for name, value in changes.items():
            setattr(cell, name, value)
        cache[key] = copy(cell._style)
    else:
        cell._style = copy(found)


#: Column letter -> index (``ws.cell`` by numbers skips openpyxl's parsing of "A12").
_COLUMNS = {letter: index for index, letter in enumerate("ABCDEF", start=1)}


def _at(ws: Worksheet, column: str, row: int) -> Any:
    """The cell at ``column`` (a letter A-F) and ``row``."""
    return ws.cell(row=row, column=_COLUMNS[column])


class _Sheet:
    """A cursor over a sheet: writes rows top-down with the house styles."""

    def __init__(self, sheet: Worksheet, last_column: str = "F") -> None:
        self.ws = sheet
        self.row = 1
        self.last = last_column

    def text(
        self, column: str, value: Any, *, font: Font | None = None,
        align: Alignment | None = None, merge_to: str | None = None, row: int | None = None,
    ) -> None:
        row = row or self.row
        cell = put_text(_at(self.ws, column, row), value)
        if font is not None:
            _style(cell, font=font, alignment=align or _WRAP)
        else:
            _style(cell, alignment=align or _WRAP)
        if merge_to:
            # What merge_cells() does, without styling the hidden cells' borders one by one
            # (none of our merged cells has a border): the costliest step of a document.
            self.ws.merged_cells.add(MergedCellRange(self.ws, f"{column}{row}:{merge_to}{row}"))

    def number(
        self, column: str, value: Decimal | int | None, *, fmt: str = EUR,
        font: Font | None = None, row: int | None = None,
    ) -> None:
        cell = _at(self.ws, column, row or self.row)
        cell.value = value
        if font is not None:
            _style(cell, number_format=fmt, alignment=_RIGHT, font=font)
        else:
            _style(cell, number_format=fmt, alignment=_RIGHT)

    def paragraph(self, value: str, *, font: Font | None = None, lines: int = 1) -> None:
        """Text over the whole width, wrapped, with room for ``lines`` lines."""
        self.text("A", value, font=font, merge_to=self.last)
        if lines > 1:
            self.ws.row_dimensions[self.row].height = 15 * lines
        self.row += 1


def _page_setup(sheet: Worksheet, title: str) -> None:
    """A4 landscape like every workbook of the project (printed with the allocation workbook
    for a board meeting; the document sent to the member is the Factur-X PDF, portrait), fit
    to width, the document's number and « Page n / N » in the footer (ARCHITECTURE.md, « Print-
    ready workbooks »)."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = f"{title} — {FOOTER}"
    sheet.oddFooter.center.size = 8
    sheet.sheet_view.showGridLines = False


def _document_sheet(workbook: Workbook, invoice: Invoice) -> None:
    ws = workbook.active
    ws.title = invoice.kind_label
    for column, width in _WIDTHS.items():
        ws.column_dimensions[column].width = width
    s = _Sheet(ws)
    title = invoice.title
    _page_setup(ws, title)
    _issuer_block(s, invoice, title)
    _customer_block(s, invoice)
    _lines_table(s, invoice)
    _vat_and_totals(s, invoice)
    # ---- mentions
    for text, lines in _mentions(invoice):
        s.paragraph(text, font=_SMALL, lines=lines)
    ws.print_area = f"A1:F{s.row}"


def _issuer_block(s: _Sheet, invoice: Invoice, title: str) -> None:
    """The issuer (left) and the document's references (right)."""
    ws = s.ws
    credit = invoice.is_credit_note
    s.text("A", invoice.carrier_name, font=_NAME)
    s.text("D", title, font=_TITLE, merge_to="F", align=_TITLE_RIGHT)
    issuer = [
        "\n".join(invoice.carrier_postal.text_lines()),
        f"SIREN : {invoice.carrier_siren or '—'} — SIRET : {invoice.carrier_siret or '—'}",
        f"N° TVA intracommunautaire : {invoice.carrier_vat_number or '—'}",
        f"IBAN : {invoice.carrier_iban or '—'}"
        + (f" — BIC : {invoice.carrier_bic}" if invoice.carrier_bic else ""),
        f"Courriel : {invoice.carrier_email or '—'}",
    ]
    references = [
        ("Date", _date(invoice.issue_date)),
        ("Échéance", "—" if credit else _date(invoice.due_date)),
        ("Période", f"du {_date(invoice.service_start)} au {_date(invoice.service_end)}"),
        ("Code adhérent", invoice.customer_code),
        ("", ""),
    ]
    for offset, (line, (label, value)) in enumerate(zip(issuer, references, strict=True), 2):
        s.text("A", line, font=None if offset == 2 else _SMALL, row=offset)
        if label:
            s.text("D", label, font=_BOLD, align=_RIGHT, row=offset)
            s.text("E", value, merge_to="F", row=offset)
    ws.row_dimensions[2].height = 15 * max(1, len(invoice.carrier_postal.text_lines()))
    s.row = 2 + len(issuer) + 1


def _customer_block(s: _Sheet, invoice: Invoice) -> None:
    """The customer block (right) and the nature of the operation (left)."""
    ws = s.ws
    credit = invoice.is_credit_note
    top = s.row
    s.text("D", "Client", font=_BOLD, merge_to="F")
    customer = [
        invoice.customer_name,
        "\n".join(invoice.customer_postal.text_lines()),
        f"SIREN : {invoice.customer_siren or '—'}",
        f"SIRET : {invoice.customer_siret or '—'}",
        f"N° TVA : {invoice.customer_vat_number}" if invoice.customer_vat_number else "",
    ]
    for offset, value in enumerate(customer, start=1):
        s.text("D", value, font=_BOLD if offset == 1 else None, merge_to="F", row=top + offset)
        _style(_at(ws, "D", top + offset), fill=_BOX_FILL)
    ws.row_dimensions[top + 2].height = 15 * max(1, len(invoice.customer_postal.text_lines()))
    s.text("A", f"Nature de l'opération : {OPERATION_NATURE.lower()}", font=_BOLD, row=top)
    s.text("A", "Refacturation à prix coûtant de la quote-part des services mutualisés du pôle "
           f"(période du {_date(invoice.service_start)} au {_date(invoice.service_end)}).",
           row=top + 1)
    if credit:
        original = invoice.original
        s.text(
            "A",
            f"Avoir sur la facture n° {original.number} du {_date(original.issue_date)}"
            if original is not None else "Avoir",
            font=_BOLD, row=top + 2,
        )
        s.text("A", f"Motif : {invoice.reason}", row=top + 3)
    elif invoice.corrects is not None:
        corrected = invoice.corrects
        s.text("A", f"Facture complémentaire de la facture n° {corrected.number} du "
               f"{_date(corrected.issue_date)}", font=_BOLD, row=top + 2)
        s.text("A", f"Motif : {invoice.reason}", row=top + 3)
    s.row = top + len(customer) + 2


def _lines_table(s: _Sheet, invoice: Invoice) -> None:
    """The header row (repeated on every printed page) and one row per line."""
    ws = s.ws
    headers = ["Désignation", "Quantité", "Montant HT", "Taux TVA", "TVA", "Montant TTC"]
    for column, header in zip("ABCDEF", headers, strict=True):
        cell = _at(ws, column, s.row)
        cell.value = header
        _style(cell, font=_HEAD, fill=_HEAD_FILL, alignment=_CENTER if column != "A" else _WRAP)
    ws.print_title_rows = f"{s.row}:{s.row}"
    s.row += 1
    for line in invoice.lines:
        _line_row(s, line)
    s.row += 1


def _vat_and_totals(s: _Sheet, invoice: Invoice) -> None:
    """The VAT summary per rate (left) beside the totals (right)."""
    ws = s.ws
    credit = invoice.is_credit_note
    s.text("A", "Récapitulatif de la TVA", font=_BOLD)
    s.row += 1
    for column, header in zip("ABC", ["Taux", "Base HT", "TVA"], strict=True):
        cell = _at(ws, column, s.row)
        cell.value = header
        _style(cell, font=_BOLD, border=_GRID, alignment=_CENTER if column != "A" else _WRAP)
    totals_row = s.row
    s.row += 1
    for total in invoice.vat_totals:
        label = (
            f"Exonéré — {invoice.vat_exemption_mention}"
            if total.regime == VatRegime.EXEMPT_261B
            else f"TVA {_rate(total.rate)}"
        )
        s.text("A", label)
        s.number("B", total.base)
        s.number("C", total.vat)
        for column in "ABC":
            _style(_at(ws, column, s.row), border=_GRID)
        s.row += 1
    end = s.row
    s.row = totals_row
    rows = [
        ("Total HT", invoice.total_excl_tax),
        ("Total TVA", invoice.total_vat),
        ("Total TTC", invoice.total_incl_tax),
        ("Montant de l'avoir" if credit else "Net à payer", invoice.total_incl_tax),
    ]
    for label, value in rows:
        strong = label in ("Total TTC", "Net à payer", "Montant de l'avoir")
        s.text("D", label, font=_BOLD if strong else None, merge_to="E", align=_RIGHT)
        s.number("F", value, font=_BOLD if strong else None)
        if label == "Total TTC":
            for column in "DEF":
                _style(_at(ws, column, s.row), border=_TOP)
        s.row += 1
    s.row = max(s.row, end) + 1


def _line_row(s: _Sheet, line: InvoiceLine) -> None:
    s.text("A", line.designation)
    s.ws.row_dimensions[s.row].height = 15 * lines_needed(line.designation, _WIDTHS["A"])
    s.number("B", 1, fmt="0")
    s.number("C", line.amount_excl_tax)
    s.number("D", line.vat_rate, fmt=PERCENT)
    s.number("E", line.vat_amount)
    s.number("F", line.amount_incl_tax)
    for column in "ABCDEF":
        _style(_at(s.ws, column, s.row), border=_GRID)
    s.row += 1


def _mentions(invoice: Invoice) -> list[tuple[str, int]]:
    """The legal mentions, in the order a reader looks for them."""
    mentions: list[tuple[str, int]] = []
    if invoice.is_credit_note:
        original = invoice.original
        if original is not None:
            whole = invoice.total_incl_tax == original.total_incl_tax
            mentions.append((
                f"Cet avoir annule {'totalement' if whole else 'partiellement'} "
                f"la facture n° {original.number} du {_date(original.issue_date)} : son montant "
                "vient en déduction de ce que vous devez, ou vous sera remboursé.",
                2,
            ))
    else:
        mentions.append((
            f"Date d'échéance : {_date(invoice.due_date)} ({invoice.payment_terms_days} jours "
            "après la date de facture).",
            1,
        ))
        if invoice.carrier_iban:
            mentions.append((
                f"Règlement par virement : IBAN {invoice.carrier_iban}"
                + (f", BIC {invoice.carrier_bic}" if invoice.carrier_bic else "")
                + f", en rappelant la référence {invoice.number}.",
                1,
            ))
    mentions += [
        (f"{DISCOUNT_MENTION}.", 1),
        (
            "Pénalités de retard : taux annuel de "
            f"{_rate(invoice.late_penalty_rate)}, exigibles dès le lendemain de la date "
            "d'échéance (article L441-10 du Code de commerce).",
            2,
        ),
        (
            "Indemnité forfaitaire pour frais de recouvrement due par le client professionnel en "
            f"cas de retard de paiement : {format_eur(RECOVERY_INDEMNITY)} (article D441-5 du "
            "Code de commerce).",
            2,
        ),
        (f"Nature de l'opération : {OPERATION_NATURE.lower()}.", 1),
        (f"SIREN du client : {invoice.customer_siren or '—'}.", 1),
    ]
    if invoice.is_exempt_anywhere:
        mentions.append((
            f"{invoice.vat_exemption_mention}. Refacturation à l'euro près de la quote-part des "
            "dépenses communes ; l'exonération est appliquée selon le régime déclaré par "
            "l'adhérent.",
            2,
        ))
    return mentions


def _annex_sheet(workbook: Workbook, invoice: Invoice) -> None:
    ws = workbook.create_sheet("Annexe")
    for column, width in _ANNEX_WIDTHS.items():
        ws.column_dimensions[column].width = width
    s = _Sheet(ws)
    kind = "l'avoir" if invoice.is_credit_note else "la facture"
    _page_setup(ws, f"Annexe — {invoice.number}")
    s.paragraph(f"Annexe — base de calcul de {kind} n° {invoice.number}", font=_NAME)
    s.paragraph(
        "Chaque ligne refacture la quote-part de l'adhérent du coût net d'un service "
        "mutualisé, répartie selon la clé convenue entre les adhérents : voici les chiffres.",
        font=_MUTED, lines=2,
    )
    s.row += 1
    for line in invoice.lines:
        _annex_block(s, line, invoice)


#: The annex's columns: wide enough for « 70 % — au prorata des heures » and 1 234,567890 €.
_ANNEX_WIDTHS = {"A": 56, "B": 19, "C": 19, "D": 13, "E": 19, "F": 21}


def _annex_block(s: _Sheet, line: InvoiceLine, invoice: Invoice) -> None:
    basis = line.basis or {}
    ws = s.ws
    full = sum(_ANNEX_WIDTHS.values())
    s.paragraph(line.designation, font=_BOLD, lines=lines_needed(line.designation, full,
                                                                  bold=True))
    if not basis:
        s.paragraph("Ligne sans répartition associée.", font=_MUTED)
        s.row += 1
        return
    rows = [
        ("Charges du service sur la période", basis.get("costs")),
        ("Subventions déduites", basis.get("subsidies")),
        ("Quote-part des frais de structure", basis.get("overheads")),
        ("Montant à répartir entre les adhérents", basis.get("pool")),
    ]
    for label, value in rows:
        s.text("A", label, merge_to="D")
        s.number("E", Decimal(value) if value is not None else None)
        s.row += 1
    key = basis.get("key_fr", basis.get("key", ""))
    s.text("A", "Clé de répartition", merge_to="B")
    s.text("C", key, merge_to="F")
    key_width = sum(_ANNEX_WIDTHS[c] for c in "CDEF")
    ws.row_dimensions[s.row].height = 15 * lines_needed(key, key_width)
    s.row += 1
    headers = ["Partie de la clé", "Valeur de l'adhérent", "Total", "Part",
               "Montant partagé", "Montant exact"]
    for column, header in zip("ABCDEF", headers, strict=True):
        cell = _at(ws, column, s.row)
        cell.value = header
        _style(cell, font=_HEAD, fill=_HEAD_FILL, alignment=_HEAD_CENTER)
    ws.row_dimensions[s.row].height = 30
    s.row += 1
    for part in basis.get("parts", []):
        label = f"{part.get('weight', '')} % — {part.get('basis', '')}"
        if part.get("common"):
            label += " (travail commun)"
        s.text("A", label)
        ws.row_dimensions[s.row].height = 15 * max(
            lines_needed(label, _ANNEX_WIDTHS["A"]),
            *(lines_needed(part.get(k, ""), _ANNEX_WIDTHS[c]) for k, c in
              (("value", "B"), ("total", "C"))),
        )
        s.text("B", part.get("value", ""), align=_RIGHT)
        s.text("C", part.get("total", ""), align=_RIGHT)
        s.number("D", Decimal(part.get("share_percent", "0")), fmt='0.0000\\ "%"')
        s.number("E", Decimal(part.get("pool", "0")))
        s.number("F", Decimal(part.get("exact", "0")), fmt='#,##0.000000\\ "€"')
        for column in "ABCDEF":
            _style(_at(ws, column, s.row), border=_GRID)
        s.row += 1
    closing = [
        ("Part exacte de l'adhérent", Decimal(basis.get("exact", "0")), '#,##0.000000\\ "€"'),
        ("Arrondi au centime (plus forts restes)", Decimal(basis.get("adjustment", "0")), EUR),
        ("Montant réparti à l'adhérent", Decimal(basis.get("amount", "0")), EUR),
    ]
    if invoice.is_credit_note:
        closing.append(("Montant HT crédité par cet avoir", line.amount_excl_tax, EUR))
    for label, value, fmt in closing:
        s.text("A", label, merge_to="E", font=_BOLD if "Montant" in label else None)
        s.number("F", value, fmt=fmt, font=_BOLD if "Montant" in label else None)
        s.row += 1
    s.row += 1


def invoice_workbook(invoice: Invoice) -> Workbook:
    """The workbook of one issued invoice or credit note: the document, then its annex."""
    if invoice.number is None:
        raise ValueError("a draft has no document: issue it first")
    workbook = _new_workbook()
    _document_sheet(workbook, invoice)
    _annex_sheet(workbook, invoice)
    workbook.properties.title = invoice.file_name.removesuffix(".xlsx")
    workbook.properties.creator = "Mutualise"
    return workbook


def write_invoice(invoice: Invoice, target: IO[bytes]) -> None:
    invoice_workbook(invoice).save(target)


def invoice_bytes(invoice: Invoice) -> bytes:
    buffer = io.BytesIO()
    write_invoice(invoice, buffer)
    return buffer.getvalue()


def write_invoices_zip(invoices: Iterable[Invoice], target: IO[bytes]) -> int:
    """All the documents in one ZIP (``FACTURE-….xlsx``, ``AVOIR-….xlsx``), written one at a
    time so memory stays flat. Returns how many were written. The xlsx files are themselves
    compressed: they are stored, not compressed twice."""
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for invoice in invoices:
            with archive.open(invoice.file_name, "w") as member:
                write_invoice(invoice, member)
            count += 1
    return count
