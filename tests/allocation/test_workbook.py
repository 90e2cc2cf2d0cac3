"""The treasurer's workbook, reopened with openpyxl and recomputed by LibreOffice."""

from __future__ import annotations

import csv
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, add_cost
from app.allocation.services import approve, store_period
from app.cli import cli
from tests.allocation.conftest import D
from tests.conftest import require_tool


@pytest.fixture
def approved(db, cluster, make_service):
    """The worked example plus overheads (1 000 € by costs) and a development service."""
    frais = make_service("FRAIS", name="Frais de structure", overheads_by="costs")
    dev = make_service("DEV", name="Chargé de développement")
    add_cost(db, CostInput(CostKind.COST, frais.id, date(2026, 1, 5), D("1000.00"),
                           "613200", "Loyer", party="SCI du Port"))
    add_cost(db, CostInput(CostKind.COST, dev.id, date(2026, 1, 6), D("10000.00"),
                           "641100", "=HYPERLINK(\"http://x\")", reference="+33"))
    set_key(db, dev, "equal", date(2026, 1, 1))
    run = store_period(db, cluster["period"])
    approve(db, run)
    db.commit()
    return run


def export(runner, tmp_path: Path) -> Path:
    path = tmp_path / "repartition-2026-01.xlsx"
    result = runner.invoke(cli, ["export", "allocation", "2026-01", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "approuvée" in result.output
    return path


def test_the_workbook_has_the_matrix_with_live_totals_and_a_stacked_chart(
    runner, approved, tmp_path
):
    path = export(runner, tmp_path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Synthèse", "COMPTA", "DEV", "Charges", "Temps"]
    ws = wb["Synthèse"]
    assert ws["A1"].value == "Répartition — janvier 2026"
    assert [c.value for c in ws[4]] == [
        "Code", "Adhérent", "Comptabilité / gestion", "Chargé de développement", "Total",
    ]
    # COMPTA pool 16 666,67 (16 000 + overheads 666,67): A 3 472,222917 -> 3 472,22 (the
    # spare cent goes to B, remainder 0,006667); DEV 10 333,33 equally, spare cent to A.
    assert [c.value for c in ws[5]][:4] == ["A", "Adhérent 1", 3472.22, 3444.45]
    assert ws["E5"].value == "=SUM(C5:D5)"
    assert ws["C8"].value == "=SUM(C5:C7)"
    assert ws["E8"].value == "=SUM(E5:E7)"
    assert ws["C5"].number_format == '#,##0.00 "€"'
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref == "A4:E7"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb.properties.title == "Répartition des services mutualisés — janvier 2026"
    assert wb.properties.language == "fr-FR"
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert '<grouping val="stacked"/>' in chart and '<barDir val="col"/>' in chart
    # one series per service, the amounts of the three members, the member codes as categories
    assert "<f>'Synthèse'!$C$5:$C$7</f>" in chart and "<f>'Synthèse'!$D$5:$D$7</f>" in chart
    assert "<f>'Synthèse'!$A$5:$A$7</f>" in chart


def test_a_service_sheet_explains_the_pool_and_every_cent(runner, approved, tmp_path):
    ws = load_workbook(export(runner, tmp_path))["COMPTA"]
    assert ws["B2"].value == "25 % part égale + 75 % heures"  # shown in French
    assert ws["B3"].value == "25 % part égale + 75 % au prorata des heures"
    assert (ws["A5"].value, ws["B5"].value) == ("Charges", 20000)
    assert (ws["A6"].value, ws["B6"].value) == ("Subventions", 4000)
    assert (ws["A7"].value, ws["B7"].value) == ("Frais de structure", 666.67)
    assert ws["C7"].value.startswith("Frais de structure au prorata des charges des services")
    assert ws["B8"].value == "=B5-B6+B7"
    header = [c.value for c in ws[10]]
    assert header == [
        "Code", "Adhérent", "Jours d'adhésion", "Base (adhérent sur total)",
        "Montant exact — 25 % part égale", "Montant exact — 75 % au prorata des heures",
        "Part %", "Montant exact", "Arrondi", "Montant",
    ]
    a = [c.value for c in ws[11]]
    # A: equal 16 666,67 / 4 / 3 = 1 388,889167 ; hours 12 500,0025 / 6 = 2 083,333750
    assert a[:4] == ["A", "Adhérent 1", 31, "1 part sur 3 ; 10 h sur 60 h"]
    assert a[4:6] == [1388.889167, 2083.33375]
    assert a[7] == 3472.222917
    assert a[9] == 3472.22
    assert ws["J14"].value == "=SUM(J11:J13)"
    assert ws["J15"].value == "=J14-B8"
    assert ws.freeze_panes == "C11"


def test_user_text_never_becomes_a_formula_and_dates_are_real(runner, approved, tmp_path):
    ws = load_workbook(export(runner, tmp_path))["Charges"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    dev = next(r for r in rows if r[1] == "DEV")
    assert dev[0] == datetime(2026, 1, 6)
    assert dev[4] == '=HYPERLINK("http://x")'
    assert dev[6] == "+33"
    label_cell = next(c for c in ws["E"] if c.value == '=HYPERLINK("http://x")')
    assert label_cell.data_type == "s"
    assert ws["A2"].number_format == "DD/MM/YYYY"
    total = rows[-1]
    assert total[0] == "Total" and total[8] == f"=SUM(I2:I{len(rows)})"


def test_the_time_sheet_lists_minutes_and_units_per_member_and_service(
    runner, approved, tmp_path
):
    ws = load_workbook(export(runner, tmp_path))["Temps"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[:3] == [
        ("A", "Adhérent 1", "COMPTA", 600, 10, 0),
        ("B", "Adhérent 2", "COMPTA", 1200, 20, 0),
        ("C", "Adhérent 3", "COMPTA", 1800, 30, 0),
    ]


@pytest.mark.slow
def test_libreoffice_recomputes_the_totals_of_the_run(runner, approved, tmp_path):
    soffice = require_tool("soffice")
    path = export(runner, tmp_path)
    out = tmp_path / "csv"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,'
         'false,-1', "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )
    sheets = {p.stem.split("-")[-1]: p for p in out.glob("*.csv")}

    def read(name: str) -> list[list[str]]:
        with sheets[name].open(encoding="utf-8") as f:
            return list(csv.reader(f))

    summary = read("Synthèse")
    total = next(r for r in summary if r[0] == "Total")
    # 27 000 = 20 000 + 10 000 + 1 000 − 4 000, recomputed from the SUM formulas
    assert [Decimal(v) for v in total[2:5]] == [D("16666.67"), D("10333.33"), D("27000.00")]
    by_member = {r[0]: Decimal(r[4]) for r in summary[4:7]}
    assert by_member == {"A": D("6916.67"), "B": D("9000.00"), "C": D("11083.33")}
    compta = read("COMPTA")
    assert Decimal(compta[7][1]) == D("16666.67")  # =B5-B6+B7
    gap = next(r for r in compta if r[0].startswith("Écart"))
    assert Decimal(gap[9]) == 0
