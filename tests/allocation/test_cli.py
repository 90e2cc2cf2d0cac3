"""The allocation commands: allocate, keys, periods, import costs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from accounting.allocation.models import AllocationKey, AllocationRun, RunStatus
from accounting.costs import Cost, Subsidy
from accounting.periods import get_or_create_period
from app.cli import cli
from tests.allocation.conftest import D

COSTS_CSV = (
    "Date;Service;Nature;Montant;Compte;Libellé;Tiers;Référence\r\n"
    "03/01/2026;COMPTA;charge;1 234,56;606400;Fournitures;Bureau Vallée;F-001\r\n"
    "2026-01-04;compta;Subvention;500.00;;Aide régionale;Région;\r\n"
    "04/01/2026;COMPTA;charge;10,00;626000;Timbres;La Poste;\r\n"
    "04/01/2026;COMPTA;charge;10,00;626000;Timbres;La Poste;\r\n"
)


def test_allocate_prints_the_matrix_and_stores_nothing_by_default(runner, db, cluster):
    result = runner.invoke(cli, ["allocate", "2026-01"])
    assert result.exit_code == 0, result.output
    assert "COMPTA: pool 16 000,00 = costs 20 000,00 - subsidies 4 000,00" in result.output
    matrix = result.output.split("« 25% equal + 75% hours »\n")[1].splitlines()
    assert matrix == [
        "Member     COMPTA      Total",
        "------  ---------  ---------",
        "A        3 333,34   3 333,34",
        "B        5 333,33   5 333,33",
        "C        7 333,33   7 333,33",
        "------  ---------  ---------",
        "TOTAL   16 000,00  16 000,00",
        "Preview only: nothing stored (use --store or --approve).",
    ]
    assert db.scalar(select(func.count()).select_from(AllocationRun)) == 0


def test_allocate_store_and_approve(runner, db, cluster):
    result = runner.invoke(cli, ["allocate", "2026-01", "--service", "COMPTA", "--approve"])
    assert result.exit_code == 0, result.output
    run = db.scalars(select(AllocationRun)).one()
    assert run.status == RunStatus.APPROVED
    assert run.inputs["service"] == "COMPTA"
    again = runner.invoke(cli, ["allocate", "2026-01", "--approve"])
    assert again.exit_code == 1
    assert "la remplacer demande un motif écrit" in again.output
    assert db.scalar(select(func.count()).select_from(AllocationRun)) == 1


def test_allocate_refusals_exit_with_the_french_message(runner, db, cluster):
    runner.invoke(cli, ["keys", "set", "COMPTA", "revenue", "--from", "2026-02-01"])
    get_or_create_period(db, "2026-02")
    result = runner.invoke(cli, ["allocate", "2026-02", "--store"])
    assert result.exit_code == 1
    assert "Chiffre d'affaires 2026 manquant pour : A, B, C" in result.output
    bad = runner.invoke(cli, ["allocate", "2026-13"])
    assert bad.exit_code == 1 and "mois invalide" in bad.output


def test_keys_set_shows_the_words_and_refuses_bad_text_with_a_caret(runner, db, cluster):
    result = runner.invoke(
        cli, ["keys", "set", "COMPTA", "30% equal + 70 % hours", "--from", "2026-03-01",
              "--agreed-on", "2026-02-20", "--agreed-by", "Réunion mensuelle"],
    )
    assert result.exit_code == 0, result.output
    assert "COMPTA from 2026-03-01: 30% equal + 70% hours" in result.output
    assert "(30 % part égale + 70 % au prorata des heures)" in result.output
    key = db.scalars(
        select(AllocationKey).where(AllocationKey.valid_from == date(2026, 3, 1))
    ).one()
    assert (key.agreed_on, key.agreed_by) == (date(2026, 2, 20), "Réunion mensuelle")
    bad = runner.invoke(cli, ["keys", "set", "COMPTA", "30% equal + 70% hour", "--from",
                              "2026-04-01"])
    assert bad.exit_code == 1
    assert "Base inconnue « hour »" in bad.output
    assert "\n  30% equal + 70% hour\n                  ^\n" in bad.output
    listed = runner.invoke(cli, ["keys", "list"])
    assert "COMPTA from 2026-01-01: 25% equal + 75% hours (agreed 2025-12-15 Réunion mensuelle)" \
        in listed.output


def test_closed_periods_refuse_keys_and_imports_from_the_cli(runner, db, cluster, tmp_path):
    assert runner.invoke(cli, ["period", "close", "2026-01"]).exit_code == 0
    key = runner.invoke(cli, ["keys", "set", "COMPTA", "hours", "--from", "2026-01-10"])
    assert key.exit_code == 1 and "ne réécrit pas le passé" in key.output
    path = tmp_path / "charges.csv"
    path.write_text(COSTS_CSV, encoding="utf-8")
    before = db.scalar(select(func.count()).select_from(Cost))
    result = runner.invoke(cli, ["import", "costs", str(path)])
    assert result.exit_code == 1
    assert "Ligne 2, colonne « Date » : La période janvier 2026 est clôturée" in result.output
    assert "Ligne 5" in result.output
    assert db.scalar(select(func.count()).select_from(Cost)) == before
    reopen = runner.invoke(cli, ["period", "reopen", "2026-01", "--reason", "oubli"])
    assert reopen.exit_code == 0, reopen.output


def test_importing_costs_twice_adds_nothing_the_second_time(runner, db, cluster, tmp_path):
    path = tmp_path / "charges.csv"
    path.write_text(COSTS_CSV, encoding="utf-8")
    costs = db.scalar(select(func.count()).select_from(Cost))
    first = runner.invoke(cli, ["import", "costs", str(path)])
    assert first.exit_code == 0, first.output
    assert "4 lines added, 0 already imported." in first.output
    assert db.scalar(select(func.count()).select_from(Cost)) == costs + 3
    grant = db.scalars(select(Subsidy).where(Subsidy.label == "Aide régionale")).one()
    assert (grant.amount, grant.account, grant.day) == (D("500.00"), "740000", date(2026, 1, 4))
    second = runner.invoke(cli, ["import", "costs", str(path)])
    assert second.exit_code == 0
    assert "Nothing to add: 4 lines of the file already imported." in second.output
    assert db.scalar(select(func.count()).select_from(Cost)) == costs + 3


def test_a_bad_costs_file_names_every_bad_row_and_column(runner, db, cluster, tmp_path):
    path = tmp_path / "charges.csv"
    path.write_text(
        "date,service,kind,amount,account,label\n"
        "2026-01-03,COMPTA,cost,-5,606400,Encre\n"
        "2026-01-03,NOPE,gift,5,606400,\n"
        "2026-31-01,COMPTA,cost,5,411000,Encre\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["import", "costs", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "Ligne 2, colonne « amount » : Nombre négatif refusé" in out
    assert "Ligne 3, colonne « service » : Service « NOPE » inconnu." in out
    assert "Ligne 3, colonne « kind » : Nature « gift » inconnue" in out
    assert "Ligne 4, colonne « date »" in out
    assert "Import refusé : 4 erreurs, rien n'a été enregistré." in out
