"""The command line: import (dry run, refusal, idempotence) and export."""

from __future__ import annotations

from datetime import date

import openpyxl
from sqlalchemy import func, select

from accounting.audit import AuditEvent
from app.cli import cli
from timesheets.models import WorkEntry

CSV = (
    "Date;Intervenant;Adhérent;Service;Durée\r\n"
    "05/03/2026;compta@test.fr;A;COMPTA;1h30\r\n"
    "06/03/2026;compta@test.fr;;COMPTA;2\r\n"
)


ADMIN = "admin@test.fr"


def _count(db):
    return db.scalar(select(func.count()).select_from(WorkEntry))


def test_import_dry_run_then_import_then_again(runner, db, cluster, tmp_path):
    path = tmp_path / "temps.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--dry-run", "--user", ADMIN])
    assert result.exit_code == 0, result.output
    assert "2 saisies seront ajoutées." in result.output
    assert _count(db) == 0
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--user", ADMIN])
    assert result.exit_code == 0, result.output
    assert "2 saisies ajoutées." in result.output
    assert _count(db) == 2
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--user", ADMIN])
    assert "Ce fichier a déjà été importé" in result.output
    assert _count(db) == 2


def test_a_refused_import_exits_non_zero_with_every_error(runner, db, cluster, tmp_path):
    path = tmp_path / "temps.csv"
    path.write_text(CSV.replace("1h30", "abc").replace(";;COMPTA", ";ZZ;COMPTA"), encoding="utf-8")
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--user", ADMIN])
    assert result.exit_code == 1
    assert "Ligne 2, colonne « Durée » : Durée illisible « abc »" in result.output
    assert "Ligne 3, colonne « Adhérent » : Adhérent inconnu « ZZ »" in result.output
    assert _count(db) == 0


def test_export_between_two_dates(runner, db, cluster, tmp_path):
    source = tmp_path / "temps.csv"
    source.write_text(CSV, encoding="utf-8")
    runner.invoke(cli, ["import", "timesheets", str(source), "--user", ADMIN])
    target = tmp_path / "export.xlsx"
    result = runner.invoke(
        cli,
        ["export", "timesheets", "--from", "2026-03-06", "--to", "31/03/2026", "-o", str(target)],
    )
    assert result.exit_code == 0, result.output
    assert "1 entry written" in result.output
    sheet = openpyxl.load_workbook(target).active
    assert sheet["A2"].value.date() == date(2026, 3, 6)
    assert sheet["I2"].value == 120
    csv_target = tmp_path / "export.csv"
    result = runner.invoke(cli, ["export", "timesheets", "-o", str(csv_target)])
    assert "2 entries written" in result.output
    assert csv_target.read_bytes().startswith(b"\xef\xbb\xbfDate;")


def test_an_import_names_its_user_who_is_recorded_as_author_and_in_the_audit_log(
    runner, db, cluster, tmp_path
):
    path = tmp_path / "temps.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(cli, ["import", "timesheets", str(path)],
                           env={"MUTUALISE_USER": None})
    assert result.exit_code == 2
    assert "Missing option '--user'" in result.output
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--user", "nobody@test.fr"])
    assert result.exit_code == 2
    assert "no user with the e-mail nobody@test.fr" in result.output
    assert _count(db) == 0
    result = runner.invoke(
        cli, ["import", "timesheets", str(path)], env={"MUTUALISE_USER": "Admin@Test.fr"}
    )
    assert result.exit_code == 0, result.output
    assert set(db.scalars(select(WorkEntry.created_by_id))) == {cluster.admin.id}
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert (event.actor_id, event.actor_label) == (cluster.admin.id, "admin@test.fr (cli)")


def test_a_user_who_is_not_the_coordination_imports_only_their_own_time(
    runner, db, cluster, tmp_path
):
    path = tmp_path / "temps.csv"
    path.write_text(CSV.replace("compta@test.fr", "dev@test.fr", 1), encoding="utf-8")
    result = runner.invoke(cli, ["import", "timesheets", str(path), "--user", "compta@test.fr"])
    assert result.exit_code == 1
    assert "Vous ne pouvez importer que vos propres temps" in result.output
    assert _count(db) == 0
