"""The treasurer's allocation workbook (openpyxl, write-only mode so 1 000 members stream).

Sheets:

* « Synthèse »: member × service matrix in euros, row and column totals as live ``SUM``
  formulas and a grand total, and a native stacked bar chart of the amounts per member;
* one sheet per service: the pool (costs − subsidies + overheads = pool, the pool itself a
  formula), the key and its words, and member / basis / exact amount of each part / share % /
  exact amount / rounding / amount, whose total is checked against the pool in the sheet;
* « Charges »: the costs and subsidies of the period; « Temps »: minutes and units per member
  and service (common work on its own lines).

Invariants: amounts are written as numbers (the Decimals of the run) with French-looking
formats (``# ##0,00 €`` on a French system), dates as real dates; every text a user typed goes
through :mod:`accounting.workbooks.cells` (no cell starts a formula); the values a spreadsheet
recomputes from the formulas equal the stored amounts to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from accounting.allocation.engine import MemberShare, PartShare, to_decimal
from accounting.allocation.keys import (
    describe_basis_fr,
    describe_key_fr,
    format_basis_value_fr,
    format_percent,
    key_text_fr,
)
from accounting.allocation.runs import KeyComparison, PeriodAllocation, ServiceAllocation
from accounting.workbooks.cells import starts_formula, text_cell
from accounting.workbooks.charges import ChargeRow
from accounting.workbooks.printing import (
    fit_widths,
    row_height,
    set_row_height,
    setup_page,
)

MONEY = '#,##0.00 "€"'
EXACT = '#,##0.000000 "€"'
PERCENT = "0.0000%"
DATE = "DD/MM/YYYY"
NUMBER = "#,##0.00"
INTEGER = "#,##0"

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_TOTAL_BORDER = Border(top=Side(style="thin"))
_WRAP = Alignment(wrap_text=True, vertical="bottom")

SUMMARY = "Synthèse"
CHARGES = "Charges"
TIME = "Temps"


# --------------------------------------------------------------------------- cells


class _Sheet:
    """A write-only sheet with the few cell kinds we need."""

    def __init__(self, wb: Workbook, title: str) -> None:
        self.ws = wb.create_sheet(title)
        self.rows = 0
        self.cells = 0
        self.column_widths: list[float] = []
        self._styles: dict[tuple[Any, ...], Any] = {}
        # sheet properties and views are written before the first row in write-only mode
        self.ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    def _style(self, key: tuple[Any, ...]) -> Any:
        """The style array of a combination, built once per sheet: setting fonts and formats
        through openpyxl's descriptors costs more than writing the cell."""
        style = self._styles.get(key)
        if style is None:
            fmt, font, fill, border, wrap = key
            template = WriteOnlyCell(self.ws)
            if fmt:
                template.number_format = fmt
            if font:
                template.font = font
            if fill:
                template.fill = fill
            if border:
                template.border = border
            if wrap:
                template.alignment = _WRAP
            style = self._styles[key] = template._style
        return style

    def cell(self, value: Any, fmt: str | None = None, *, bold: bool = False,
             font: Font | None = None, fill: PatternFill | None = None,
             border: Border | None = None, wrap: bool = False) -> Any:
        """A value (cell); text is always text (see formula() for our own formulas)."""
        key = (fmt, font or (_BOLD if bold else None), fill, border, wrap)
        if starts_formula(value):
            cell = text_cell(self.ws, value)  # its own style array: quotePrefix is set on it
            if any(key):
                cell._style = copy(self._style(key))
                cell.quotePrefix = True
            return cell
        if not any(key):
            return value  # a plain value: openpyxl writes it without a cell object of ours
        cell = WriteOnlyCell(self.ws, value=value)
        cell._style = self._style(key)  # shared, never changed: cells are written and gone
        return cell

    def formula(self, text: str, fmt: str | None = None, **style: Any) -> WriteOnlyCell:
        """A formula we wrote ourselves (never from user text)."""
        cell = WriteOnlyCell(self.ws, value=text)
        key = (fmt, _BOLD if style.get("bold") else None, None, style.get("border"), False)
        if any(key):
            cell._style = self._style(key)
        return cell

    def append(self, values: Iterable[Any], height: float | None = None) -> int:
        row = list(values)
        set_row_height(self.ws, self.rows + 1, height)
        self.ws.append(row)
        self.rows += 1
        self.cells += len(row)
        return self.rows

    def header(self, titles: Sequence[str]) -> int:
        """The table's header: bold, wrapped, as tall as its longest title needs."""
        height = row_height(titles, self.column_widths, bold=True)
        return self.append(
            (self.cell(t, bold=True, fill=_HEADER_FILL, wrap=True) for t in titles), height
        )

    def label_row(self, label: str, *values: Any) -> int:
        """A bold label in column A (wrapped, the row as tall as it needs) and its values."""
        height = row_height([label], self.column_widths[:1], bold=True)
        return self.append([self.cell(label, bold=True, wrap=True), *values], height)

    def widths(self, widths: Sequence[float]) -> None:
        self.column_widths = list(widths)
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width

    def fit(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], **limits: Any) -> None:
        """Column widths measured on the header words and the rows (see printing.fit_widths)."""
        self.widths(fit_widths(headers, rows, **limits))

    def print_setup(self, title_row: int | None = None) -> None:
        setup_page(self.ws, title_rows=title_row)


def _money(value: Decimal | Fraction) -> Decimal:
    return value if isinstance(value, Decimal) else to_decimal(value, 6)


def _col(index: int) -> str:
    return get_column_letter(index)


# --------------------------------------------------------------------------- sheets


def _sheet_names(result: PeriodAllocation) -> dict[str, str]:
    """A sheet title per service code, unique without case against the fixed sheets."""
    taken = {SUMMARY.lower(), CHARGES.lower(), TIME.lower()}
    names = {}
    for item in result.services:
        base = item.service.code[:31]
        name = base
        n = 2
        while name.lower() in taken:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        taken.add(name.lower())
        names[item.service.code] = name
    return names


def _summary(wb: Workbook, result: PeriodAllocation, status: str) -> int:
    sheet = _Sheet(wb, SUMMARY)
    services = [s for s in result.services if s.allocation is not None]
    n = len(services)
    amounts = result.amounts()
    members = result.member_by_code
    titles = ["Code", "Adhérent", *[s.service.name for s in services], "Total"]
    sheet.fit(titles, (
        [code, members[code].name, *[row.get(s.service.code, 0) for s in services],
         result.total]
        for code, row in amounts.items()
    ), minimum=10, maximum=[14, 40, *([16] * n), 18])
    sheet.ws.freeze_panes = "C5"  # before any row: write-only sheets write their view first
    sheet.append([sheet.cell(f"Répartition — {result.period_label}", font=_TITLE)])
    sheet.append([sheet.cell(status)])
    sheet.append([])
    header_row = sheet.header(titles)
    assert header_row == 4, "the frozen panes above assume the header on row 4"
    first = header_row + 1
    for code, row in amounts.items():
        r = sheet.rows + 1
        sheet.append([
            sheet.cell(code), sheet.cell(members[code].name),
            *[sheet.cell(row.get(s.service.code, Decimal("0.00")), MONEY) for s in services],
            sheet.formula(f"=SUM(C{r}:{_col(2 + n)}{r})", MONEY, bold=True),
        ])
    last = max(sheet.rows, first)
    total_row = sheet.rows + 1
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER),
        sheet.cell("", border=_TOTAL_BORDER),
        *[
            sheet.formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})", MONEY, bold=True,
                          border=_TOTAL_BORDER)
            for c in range(3, 4 + n)
        ],
    ])
    sheet.append([])
    sheet.append([sheet.cell("Contrôle : total réparti", bold=True), None,
                  sheet.formula(f"={_col(3 + n)}{total_row}", MONEY)])
    sheet.append([sheet.cell("Montant attendu (à répartir)"), None,
                  sheet.cell(result.total, MONEY)])
    sheet.ws.auto_filter.ref = f"A{header_row}:{_col(3 + n)}{last}"
    sheet.print_setup(header_row)
    if amounts and services:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = f"Montants par adhérent — {result.period_label}"
        chart.y_axis.title = "€"
        chart.y_axis.numFmt = MONEY
        chart.add_data(
            Reference(sheet.ws, min_col=3, max_col=2 + n, min_row=header_row, max_row=last),
            titles_from_data=True,
        )
        chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
        chart.width = max(18.0, min(60.0, 1.2 * len(amounts)))
        chart.height = 9.0
        sheet.ws.add_chart(chart, f"{_col(5 + n)}{header_row}")
    return sheet.cells


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def _part_title(part: PartShare) -> str:
    """The words of one explanation line, as on invoices: « 25 % part égale »."""
    head = describe_basis_fr(part.basis, common=part.common)
    if part.common:
        head = f"travail commun {head}"
    return f"{format_percent(part.weight)} % {head}" if part.weight != 100 else head


def _basis_text(share: MemberShare, totals: dict[Any, str]) -> str:
    """« 1 part sur 3 ; 10 h sur 60 h » (the totals, the same for every member, cached)."""
    texts = []
    for part in share.parts:
        value = format_basis_value_fr(part.basis, part.value_number())
        key = (part.basis, part.total)
        total = totals.get(key)
        if total is None:
            total = totals[key] = format_basis_value_fr(part.basis, part.total, total=True)
        texts.append(f"{value} sur {total}")
    return " ; ".join(texts)


def _part_cells(sheet: _Sheet, share: MemberShare, spans: list[dict[str, Any]]) -> list[Any]:
    """The exact amount of each part of the key, or of each key period when the key changed
    inside the period (DESIGN §4)."""
    if spans:
        return [sheet.cell(Decimal(s["amounts"].get(share.code, "0")), MONEY) for s in spans]
    return [sheet.cell(p.exact_decimal(6), EXACT) for p in share.parts]


def _service_sheet(wb: Workbook, result: PeriodAllocation, item: ServiceAllocation,
                   title: str) -> int:
    sheet = _Sheet(wb, title)
    allocation = item.allocation
    assert allocation is not None
    shares = allocation.shares
    spans = (item.inputs or {}).get("key_periods") or []
    if spans:  # a key change inside the period: one column per key period (DESIGN §4)
        part_titles = [f"période de clé du {_day(s['start'])} au {_day(s['end'])} "
                       f"({s['key']})" for s in spans]
    else:
        part_titles = [_part_title(p) for p in shares[0].parts] if shares else []
    k = len(part_titles)
    titles = [
        "Code", "Adhérent", "Jours d'adhésion", "Base (adhérent sur total)",
        *[f"Montant exact — {t}" for t in part_titles],
        "Part %", "Montant exact", "Arrondi", "Montant",
    ]
    members = result.member_by_code
    totals: dict[Any, str] = {}
    bases = {s.code: _basis_text(s, totals) for s in shares}
    sheet.fit(titles, [
        *([sh.code, members[sh.code].name, sh.active_days, bases[sh.code],
           *[c.value for c in _part_cells(sheet, sh, spans)], 100, sh.exact_decimal,
           0.000001, sh.amount]
          for sh in shares),
    ], places=[0, 0, 0, 0, *([6] * k), 4, 6, 6, 2],
        maximum=[12, 28, 10, 40, *([16] * k), 11, 16, 13, 15])
    sheet.ws.freeze_panes = "C11"  # the table's header is row 10 (asserted below)
    pool_row = _pool_block(sheet, result, item)
    header_row = sheet.header(titles)
    assert header_row == 10
    first = header_row + 1
    pool = allocation.pool
    eight = Decimal("1e-8")
    base_width = sheet.column_widths[3]
    for share in shares:
        exact = share.exact_decimal
        base = bases[share.code]
        sheet.append([
            sheet.cell(share.code), sheet.cell(members[share.code].name),
            sheet.cell(share.active_days, INTEGER), sheet.cell(base, wrap=True),
            *_part_cells(sheet, share, spans),
            sheet.cell((exact / pool).quantize(eight) if pool else Decimal(0), PERCENT),
            sheet.cell(exact, EXACT),
            sheet.cell(share.amount - exact, EXACT),
            sheet.cell(share.amount, MONEY),
        ], row_height([base], [base_width]))
    last = max(sheet.rows, first)
    amount_col = 8 + k
    _total_rows(sheet, first, last, k, pool_row)
    if allocation.excluded:
        sheet.append([])
        sheet.append([sheet.cell("Sans jour d'adhésion sur la période (non répartis)"),
                      sheet.cell(", ".join(allocation.excluded))])
    if spans:
        _key_periods_table(sheet, spans)
    sheet.ws.auto_filter.ref = f"A{header_row}:{_col(amount_col)}{last}"
    sheet.print_setup(header_row)
    return sheet.cells


def _pool_block(sheet: _Sheet, result: PeriodAllocation, item: ServiceAllocation) -> int:
    """Rows 1-9: the title, the key, the charges, subsidies and overheads, and the pool as a
    live formula; returns the pool's row."""
    assert item.allocation is not None
    sheet.append([sheet.cell(f"{item.service.name} — {result.period_label}", font=_TITLE)])
    sheet.append([sheet.cell("Clé", bold=True), sheet.cell(key_text_fr(item.key_text))])
    sheet.append([sheet.cell("En clair", bold=True),
                  sheet.cell(describe_key_fr(item.allocation.key))])
    sheet.append([])
    costs_row = sheet.label_row("Charges", sheet.cell(item.costs, MONEY))
    sheet.label_row("Subventions", sheet.cell(item.subsidies, MONEY))
    overheads_text = item.overheads_share.describe_fr() if item.overheads_share else ""
    sheet.label_row("Frais de structure", sheet.cell(item.overheads, MONEY),
                    sheet.cell(overheads_text))
    pool_row = sheet.label_row(
        "Montant à répartir",
        sheet.formula(f"=B{costs_row}-B{costs_row + 1}+B{costs_row + 2}", MONEY, bold=True),
    )
    sheet.append([])
    return pool_row


def _total_rows(sheet: _Sheet, first: int, last: int, k: int, pool_row: int) -> None:
    """The column totals (live SUMs) and the gap with the pool, which must read zero."""
    total_row = sheet.rows + 1
    amount_col = 8 + k
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER),
        *[sheet.cell("", border=_TOTAL_BORDER) for _ in range(3)],
        *[
            sheet.formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})",
                          MONEY if c == amount_col else (PERCENT if c == 5 + k else EXACT),
                          bold=True, border=_TOTAL_BORDER)
            for c in range(5, amount_col + 1)
        ],
    ])
    sheet.append([
        sheet.cell("Écart avec le montant à répartir (doit être nul)", bold=True), None, None,
        None, *([None] * (amount_col - 5)),
        sheet.formula(f"={_col(amount_col)}{total_row}-B{pool_row}", MONEY, bold=True),
    ])


def _key_periods_table(sheet: _Sheet, spans: list[dict[str, Any]]) -> None:
    """A key changed inside the period: each key period's own pool (DESIGN §4)."""
    sheet.append([])
    sheet.append([sheet.cell("Périodes de clé : chacune répartie exactement, les montants "
                             "additionnés", bold=True)])
    for span in spans:
        sheet.append([
            sheet.cell(f"du {_day(span['start'])} au {_day(span['end'])}"),
            sheet.cell(span["key"]), sheet.cell(Decimal(span["costs"]), MONEY),
            sheet.cell(Decimal(span["subsidies"]), MONEY),
            sheet.cell(Decimal(span["overheads"]), MONEY),
            sheet.cell(Decimal(span["pool"]), MONEY),
        ])


def _charges_sheet(wb: Workbook, charges: Sequence[ChargeRow]) -> int:
    sheet = _Sheet(wb, CHARGES)
    titles = ["Date", "Service", "Nature", "Compte", "Libellé", "Tiers", "Référence",
              "Montant", "Effet sur le montant à répartir"]
    sheet.fit(titles, ([r.day, r.service, r.kind, r.account, r.label, r.party, r.reference,
                        r.amount, r.effect] for r in charges),
              minimum=8, maximum=[12, 16, 12, 11, 40, 26, 18, 16, 16])
    sheet.ws.freeze_panes = "A2"
    sheet.header(titles)
    widths = sheet.column_widths
    for row in charges:
        sheet.append([
            sheet.cell(row.day, DATE), sheet.cell(row.service), sheet.cell(row.kind),
            sheet.cell(row.account), sheet.cell(row.label, wrap=True),
            sheet.cell(row.party, wrap=True), sheet.cell(row.reference, wrap=True),
            sheet.cell(row.amount, MONEY), sheet.cell(row.effect, MONEY),
        ], row_height([row.label, row.party, row.reference], widths[4:7]))
    last = max(sheet.rows, 2)
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER),
        *[sheet.cell("", border=_TOTAL_BORDER) for _ in range(7)],
        sheet.formula(f"=SUM(I2:I{last})", MONEY, bold=True, border=_TOTAL_BORDER),
    ])
    sheet.ws.auto_filter.ref = f"A1:I{last}"
    sheet.print_setup(1)
    return sheet.cells


def _time_sheet(wb: Workbook, result: PeriodAllocation) -> int:
    sheet = _Sheet(wb, TIME)
    members = result.member_by_code
    titles = ["Code", "Adhérent", "Service", "Minutes", "Heures", "Unités d'œuvre"]
    sheet.fit(titles, [["Travail commun", "Travail commun"],
                       *([code, m.name] for code, m in members.items()),
                       *([None, None, s.service.code] for s in result.services)],
              minimum=12, maximum=[14, 40, 24, 12, 12, 12])
    sheet.ws.freeze_panes = "A2"
    sheet.header(titles)
    for item in result.services:
        inputs = item.inputs
        spans = inputs.get("key_periods") or []
        listed = [m for s in spans for m in s["inputs"].get("members", [])] if spans else (
            inputs.get("members", []))
        for code, _days, _rev, _head, minutes, units in listed:
            if not minutes and not Decimal(units):
                continue
            name = members[code].name if code in members else ""
            sheet.append([
                sheet.cell(code), sheet.cell(name), sheet.cell(item.service.code),
                sheet.cell(minutes, INTEGER), sheet.cell(Decimal(minutes) / 60, NUMBER),
                sheet.cell(Decimal(units), NUMBER),
            ])
        common_minutes = inputs.get("common_minutes", 0)
        common_units = Decimal(inputs.get("common_units", "0"))
        if common_minutes or common_units:
            sheet.append([
                sheet.cell("—"), sheet.cell("Travail commun"), sheet.cell(item.service.code),
                sheet.cell(common_minutes, INTEGER),
                sheet.cell(Decimal(common_minutes) / 60, NUMBER),
                sheet.cell(common_units, NUMBER),
            ])
    last = max(sheet.rows, 2)
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER),
        sheet.cell("", border=_TOTAL_BORDER), sheet.cell("", border=_TOTAL_BORDER),
        *[
            sheet.formula(f"=SUM({c}2:{c}{last})", INTEGER if c == "D" else NUMBER, bold=True,
                          border=_TOTAL_BORDER)
            for c in "DEF"
        ],
    ])
    sheet.ws.auto_filter.ref = f"A1:F{last}"
    sheet.print_setup(1)
    return sheet.cells


def write_allocation_workbook(
    result: PeriodAllocation,
    charges: Sequence[ChargeRow],
    out: str | Path | IO[bytes],
    *,
    status: str = "",
    author: str = "Mutualise",
    company: str = "",
    budget: Sequence[Any] = (),
) -> int:
    """Write the workbook of ``result`` (a preview or a stored run) to ``out``; returns the
    number of cells written. ``budget``: the year's budget against actual (a sheet when
    given)."""
    wb = Workbook(write_only=True)
    status = status or "Aperçu : répartition calculée, non enregistrée."
    cells = _summary(wb, result, status)
    names = _sheet_names(result)
    for item in result.services:
        if item.allocation is not None:
            cells += _service_sheet(wb, result, item, names[item.service.code])
    cells += _charges_sheet(wb, charges)
    cells += _time_sheet(wb, result)
    if budget:
        from accounting.workbooks.budget import budget_sheet

        cells += budget_sheet(wb, budget, result.year)
    props = wb.properties
    props.title = f"Répartition des services mutualisés — {result.period_label}"
    props.subject = f"Répartition {result.period_code}"
    props.creator = author
    props.lastModifiedBy = author
    props.description = status
    props.keywords = f"répartition, {result.period_code}"
    props.category = "Répartition"
    props.language = "fr-FR"
    props.created = props.modified = datetime.now().replace(microsecond=0)
    if company:
        props.identifier = company
    wb.save(out)
    return cells


def write_key_comparison_workbook(comparison: KeyComparison, out: str | Path | IO[bytes]) -> None:
    """One sheet « Comparaison »: the candidate keys side by side, member by member, with the
    difference of each candidate to the first and live totals."""
    wb = Workbook(write_only=True)
    result, item = comparison.result, comparison.item
    candidates = comparison.candidates
    n = len(candidates)
    sheet = _Sheet(wb, "Comparaison")
    sheet.widths([12, 30, *([20] * n), *([16] * (n - 1))])
    sheet.ws.freeze_panes = "C6"
    sheet.append([sheet.cell(f"{item.service.name} — {result.period_label} : comparaison des clés",
                             font=_TITLE)])
    sheet.append([sheet.cell("Montant à répartir", bold=True), sheet.cell(item.pool, MONEY)])
    sheet.append([sheet.cell("Clés", bold=True),
                  *[sheet.cell(key_text_fr(c.text)) for c in candidates]])
    plain = [describe_key_fr(c.key) if c.key else str(c.error or "") for c in candidates]
    sheet.append([sheet.cell("En clair", bold=True),
                  *[sheet.cell(text, wrap=True) for text in plain]],
                 row_height(plain, sheet.column_widths[1:]))
    header = sheet.header([
        "Code", "Adhérent", *[f"Clé {i + 1}" for i in range(n)],
        *[f"Écart clé {i + 1} − clé 1" for i in range(1, n)],
    ])
    assert header == 5
    first = header + 1
    for ref, amounts in comparison.rows():
        r = sheet.rows + 1
        sheet.append([
            sheet.cell(ref.code), sheet.cell(ref.name),
            *[sheet.cell(a, MONEY) if a is not None else None for a in amounts],
            *[
                sheet.formula(f"={_col(3 + i)}{r}-C{r}", MONEY)
                if amounts[i] is not None and amounts[0] is not None else None
                for i in range(1, n)
            ],
        ])
    last = max(sheet.rows, first)
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER), sheet.cell("", border=_TOTAL_BORDER),
        *[
            sheet.formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})", MONEY, bold=True,
                          border=_TOTAL_BORDER)
            for c in range(3, 3 + 2 * n - 1)
        ],
    ])
    sheet.ws.auto_filter.ref = f"A{header}:{_col(2 + 2 * n - 1)}{last}"
    sheet.print_setup(header)
    wb.properties.title = f"Comparaison des clés — {item.service.name} — {result.period_label}"
    wb.properties.creator = "Mutualise"
    wb.properties.language = "fr-FR"
    wb.save(out)
