"""The « Budget et réalisé » sheet of the allocation workbook (DESIGN §5b): per service and
month, the budget, the actual of the months gone and the forecast, with the year's totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from accounting.workbooks.allocation import _TOTAL_BORDER, MONEY, _Sheet

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")
BUDGET = "Budget et réalisé"


def budget_sheet(wb: Workbook, budget: Sequence[Any], year: int) -> int:
    """Per service and month (``accounting.budgets.actuals.ServiceYear``): the budget, the
    actual of the months gone, and the forecast (actual, else budget) that sums to the
    forecast to year-end (DESIGN §5b)."""
    sheet = _Sheet(wb, BUDGET)
    titles = ["Service", "Mois", f"Budget {year}", "Réalisé", "Prévision"]
    sheet.widths([28, 14, 16, 16, 16])
    sheet.ws.freeze_panes = "A2"
    sheet.header(titles)
    for row in budget:
        for month, (planned, actual) in enumerate(
            zip(row.monthly_budget, row.monthly_actual, strict=True)
        ):
            sheet.append([
                sheet.cell(row.service.name), sheet.cell(_MONTHS[month]),
                sheet.cell(planned, MONEY),
                sheet.cell(actual, MONEY) if actual is not None else sheet.cell("à venir"),
                sheet.cell(actual if actual is not None else planned, MONEY),
            ])
    last = max(sheet.rows, 2)
    sheet.append([
        sheet.cell("Total", bold=True, border=_TOTAL_BORDER),
        sheet.cell("", border=_TOTAL_BORDER),
        *[sheet.formula(f"=SUM({c}2:{c}{last})", MONEY, bold=True, border=_TOTAL_BORDER)
          for c in "CDE"],
    ])
    sheet.ws.auto_filter.ref = f"A1:E{last}"
    sheet.print_setup(1)
    return sheet.cells
