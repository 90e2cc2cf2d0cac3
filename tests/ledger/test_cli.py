"""The ledger commands: check-fec, export fec / ledger / member-entries, import fec."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from accounting.costs import Cost
from accounting.fec_check import check_fec
from accounting.ledger.models import JournalEntry
from app.cli import cli
from imports.fec import read_fec

DATA = Path(__file__).resolve().parent.parent / "data" / "fec"
D = Decimal


def test_check_fec_lists_every_issue_and_fails_on_errors(runner) -> None:
    result = runner.invoke(cli, ["check-fec", str(DATA / "987654321FEC20251231-broken.txt")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1] == (
        "fichier : [erreur siren] Le SIREN 987654321 du nom de fichier est invalide (la clé de "
        "contrôle de Luhn ne correspond pas)."
    )
    assert "ligne 10, colonne EcritureDate : [erreur date]" in result.output
    assert lines[-1].endswith("12 errors, 5 warnings.")
    assert len(lines) == 18  # 17 issues and the summary


def test_check_fec_passes_the_valid_sample(runner) -> None:
    result = runner.invoke(cli, ["check-fec", str(DATA / "123456782FEC20251231.txt")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 errors, 0 warnings.")


def test_export_fec_writes_the_legal_name_and_passes_the_check(runner, db, issued, tmp_path):
    result = runner.invoke(cli, ["ledger", "post-missing"])
    assert result.exit_code == 0, result.output
    assert "3 entries posted." in result.output
    result = runner.invoke(cli, ["export", "fec", "2026", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "782899439FEC20261231.txt"
    assert f"11 lines written to {path}." in result.output
    assert check_fec(path) == []
    assert runner.invoke(cli, ["check-fec", str(path)]).exit_code == 0


def test_export_ledger_writes_the_workbook(runner, db, issued, tmp_path):
    runner.invoke(cli, ["ledger", "post-missing"])
    out = tmp_path / "grand-livre.xlsx"
    result = runner.invoke(cli, ["export", "ledger", "--from", "2026-01-01", "--to",
                                 "2026-12-31", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    # 16 000,00 of salaries + 19 200,01 invoiced incl. tax.
    assert "11 lines, 7 accounts, debit 35 200,01 = credit 35 200,01" in result.output
    assert load_workbook(out, read_only=True).sheetnames == ["Journal", "Grand livre", "Balance"]


def test_export_member_entries_as_fec_and_workbook(runner, db, issued, tmp_path):
    fec = tmp_path / "a.txt"
    result = runner.invoke(cli, ["export", "member-entries", "A", "--from", "2026-01-01",
                                 "--to", "2026-12-31", "-o", str(fec)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_fec(fec).rows
    assert [(r.compte_num, r.debit, r.credit, r.comp_aux_num) for r in rows] == [
        ("6226", D("3333.34"), D("0.00"), ""),
        ("445660", D("666.67"), D("0.00"), ""),
        ("401VH", D("0.00"), D("4000.01"), "VH"),
    ]
    xlsx = tmp_path / "a.xlsx"
    assert runner.invoke(cli, ["export", "member-entries", "A", "--from", "2026-01-01",
                               "--to", "2026-12-31", "-o", str(xlsx)]).exit_code == 0  # fmt: skip
    sheet = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert sheet[-1][-3:] == ("Débit = crédit", 4000.01, 4000.01)
    unknown = runner.invoke(cli, ["export", "member-entries", "ZZ", "--from", "2026-01-01",
                                  "--to", "2026-12-31", "-o", str(xlsx)])  # fmt: skip
    assert unknown.exit_code == 1


def test_import_fec_maps_saves_and_is_idempotent(runner, db, make_service):
    make_service("COMPTA", name="Comptabilité / gestion")
    make_service("DEV", name="Chargé de développement")
    sample = str(DATA / "123456782FEC20251231.txt")
    dry = runner.invoke(cli, ["import", "fec", sample, "--map", "606*=COMPTA", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: 1 cost would be added, 0 already imported." in dry.output
    assert "  COMPTA: debit 100,00 / credit 0,00 -> net 100,00" in dry.output
    assert ("left aside (not mapped): 60400000 Achats de prestations — 1 line from line 10, "
            "debit 92,00, credit 0,00") in dry.output
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    refused = runner.invoke(cli, ["import", "fec", sample, "--map", "606*=COMPTA",
                                  "--map", "604*=DEV"])  # fmt: skip
    assert refused.exit_code == 1
    assert "Ligne 8, colonne « CompteNum » : Compte 51200000 (Banque) laissé de côté" in (
        refused.output)
    first = runner.invoke(cli, ["import", "fec", sample, "--map", "606*=COMPTA",
                                "--map", "604*=DEV", "--accept-unmapped"])  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "2 costs added, 0 already imported." in first.output
    assert "Left aside in total: debit 2 400,00, credit 2 400,00." in first.output
    again = runner.invoke(cli, ["import", "fec", sample, "--accept-unmapped"])  # saved rules
    assert again.exit_code == 1
    assert "Fichier déjà importé" in again.output
    assert db.scalar(select(func.count()).select_from(JournalEntry)) == 2


def test_import_fec_refuses_the_broken_sample_with_its_lines(runner, db, make_service):
    make_service("DEV")
    result = runner.invoke(cli, ["import", "fec", str(DATA / "987654321FEC20251231-broken.txt"),
                                 "--map", "6*=DEV"])  # fmt: skip
    assert result.exit_code == 1
    assert "FEC refusé : 8 erreurs, rien n'a été importé." in result.output
    assert "Ligne 5, colonne « Debit »" in result.output
