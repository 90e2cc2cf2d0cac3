"""The invoices commands: issue (prints the numbers), credit, export ZIP, import payments."""

from __future__ import annotations

import zipfile
from decimal import Decimal

from sqlalchemy import select

from accounting.invoicing.models import Invoice, Payment
from app.cli import cli


def test_issue_prints_the_numbers_and_refuses_a_second_time(runner, db, billing):
    result = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2026-0001\tA\tinvoice\t4000.01", "2026-0002\tB\tinvoice\t6400.00",
        "2026-0003\tC\tinvoice\t8800.00", "3 invoices and 0 credit notes issued for 2026-01.",
    ]
    again = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    assert again.exit_code == 1
    assert "déjà facturée" in again.output


def test_issue_from_an_unapproved_allocation_fails_and_writes_nothing(runner, db, unapproved):
    result = runner.invoke(cli, ["invoices", "issue", "2026-01"])
    assert result.exit_code == 1
    assert "pas encore approuvée" in result.output
    assert db.scalars(select(Invoice)).all() == []


def test_credit_full_and_partial(runner, db, billing):
    runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    result = runner.invoke(cli, ["invoices", "credit", "2026-0002", "--amount", "1000,00",
                                 "--reason", "Geste", "--date", "2026-02-10"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-0004\tcredit note on 2026-0002\t1200.00"
    too_much = runner.invoke(cli, ["invoices", "credit", "2026-0002", "--amount", "9999",
                                   "--reason", "x", "--date", "2026-02-10"])
    assert too_much.exit_code == 1 and "dépasse" in too_much.output
    unknown = runner.invoke(cli, ["invoices", "credit", "2099-0001", "--reason", "x"])
    assert unknown.exit_code == 1 and "Aucune facture" in unknown.output


def test_there_is_no_command_to_edit_or_delete_an_invoice(runner):
    group = cli.commands["invoices"]
    # send and remind (issue 18) e-mail documents; none edits or deletes one.
    assert sorted(group.commands) == ["credit", "issue", "remind", "send"]


def test_export_invoices_writes_a_zip(runner, db, billing, tmp_path):
    runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    target = tmp_path / "factures.zip"
    result = runner.invoke(cli, ["export", "invoices", "2026-01", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        # Each workbook with its Factur-X PDF beside it (issue 18).
        assert archive.namelist() == [
            "FACTURE-2026-0001.xlsx", "FACTURE-2026-0001.pdf",
            "FACTURE-2026-0002.xlsx", "FACTURE-2026-0002.pdf",
            "FACTURE-2026-0003.xlsx", "FACTURE-2026-0003.pdf"]
        assert archive.read("FACTURE-2026-0002.pdf").startswith(b"%PDF-")


def test_import_payments_dry_run_then_for_real_then_again(runner, db, billing, tmp_path):
    runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    statement = tmp_path / "releve.csv"
    statement.write_text("Date;Adhérent;Montant;Référence\n01/03/2026;C;8800,00;VIR\n",
                         encoding="utf-8")
    dry = runner.invoke(cli, ["import", "payments", str(statement), "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output
    assert db.scalars(select(Payment)).all() == []
    real = runner.invoke(cli, ["import", "payments", str(statement)])
    assert real.exit_code == 0 and "1 paiement à enregistrer" in real.output
    again = runner.invoke(cli, ["import", "payments", str(statement)])
    assert "Aucun nouveau paiement" in again.output and "déjà importée" in again.output
    assert [p.amount for p in db.scalars(select(Payment))] == [Decimal("8800.00")]


def test_import_payments_with_bad_rows_lists_them_and_writes_nothing(runner, db, billing,
                                                                     tmp_path):
    statement = tmp_path / "releve.csv"
    statement.write_text("Date;Adhérent;Montant\n01/03/2026;ZZ;10\n01/13/2026;A;x\n",
                         encoding="utf-8")
    result = runner.invoke(cli, ["import", "payments", str(statement)])
    assert result.exit_code == 1
    assert "Ligne 2, colonne « Adhérent »" in result.output
    assert "Ligne 3, colonne « Date »" in result.output
    assert "Ligne 3, colonne « Montant »" in result.output
    assert db.scalars(select(Payment)).all() == []
