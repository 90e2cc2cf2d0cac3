"""Corrections on the command line (DESIGN §4): every acting command names its user, the
approval replaces with a reason, issuing again invoices the differences, keys are deleted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from accounting.allocation.models import AllocationKey, AllocationRun, RunStatus
from accounting.audit import AuditEvent
from accounting.org import Role
from accounting.periods import reopen_period
from app.cli import cli
from tests.conftest import CLI_USER

NO_USER = {"MUTUALISE_USER": None}


@pytest.mark.parametrize("args", [
    ["allocate", "2026-01", "--approve"],
    ["allocate", "2026-01", "--store"],
    ["invoices", "issue", "2026-01"],
    ["invoices", "credit", "2026-0001", "--reason", "erreur"],
    ["period", "close", "2026-01"],
    ["period", "reopen", "2026-01", "--reason", "erreur"],
    ["keys", "set", "COMPTA", "equal", "--from", "2026-03-01"],
    ["keys", "delete", "COMPTA", "--from", "2026-03-01"],
    ["import", "costs", "costs.csv"],
    ["import", "payments", "releve.csv"],
    ["import", "fec", "fec.txt"],
    ["import", "members", "members.csv"],
    ["import", "figures", "figures.csv"],
    ["ledger", "post-missing"],
])
def test_every_acting_command_refuses_without_a_user(runner, db, unapproved, tmp_path, args):
    for name in ("costs.csv", "releve.csv", "fec.txt", "members.csv", "figures.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    args = [str(tmp_path / a) if a in {"costs.csv", "releve.csv", "fec.txt", "members.csv",
                                         "figures.csv"} else a for a in args]
    before = db.scalars(select(AuditEvent.id)).all()
    result = runner.invoke(cli, args, env=NO_USER)
    assert result.exit_code == 2, result.output
    assert "--user" in result.output
    assert db.scalars(select(AuditEvent.id)).all() == before


def test_a_member_accountant_may_not_approve(runner, db, unapproved, make_user):
    user = make_user(Role.MEMBER_ACCOUNTANT, member=unapproved.members["A"])
    result = runner.invoke(cli, ["allocate", "2026-01", "--approve"],
                           env={"MUTUALISE_USER": user.email})
    assert result.exit_code == 1
    assert "may not approve a run: it needs the role treasurer" in result.output


def test_approve_replace_and_issue_the_differences_naming_the_user(runner, db, billing):
    issued = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"])
    assert issued.exit_code == 0, issued.output
    assert set(db.scalars(select(AuditEvent.actor_label).where(
        AuditEvent.action == "issue"))) == {f"{CLI_USER} (cli)"}
    reopen_period(db, billing.period, "subvention oubliée")
    from accounting.costs import CostInput, CostKind, add_cost
    from tests.invoices.test_corrections import D

    add_cost(db, CostInput(CostKind.SUBSIDY, billing.compta.id, date(2026, 1, 20),
                           D("1600.00"), "740000", "Région"))
    refused = runner.invoke(cli, ["allocate", "2026-01", "--approve", "--reason", "   "])
    assert refused.exit_code == 1 and "motif écrit" in refused.output
    result = runner.invoke(cli, ["allocate", "2026-01", "--store", "--approve", "--reason",
                                 "Subvention régionale oubliée"])
    assert result.exit_code == 0, result.output
    assert f"replacing run {billing.run.id}." in result.output
    db.expire_all()
    run = db.scalars(select(AllocationRun).order_by(AllocationRun.id.desc())).first()
    assert run.status == RunStatus.APPROVED and run.approved_by_id is not None
    assert run.replace_reason == "Subvention régionale oubliée"
    assert db.get(AllocationRun, billing.run.id).status == RunStatus.REPLACED
    notes = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-20"])
    assert notes.exit_code == 0, notes.output
    assert notes.output.splitlines()[-1] == "0 invoices and 3 credit notes issued for 2026-01."
    assert "2026-0004\tA\tcredit note\t400.01" in notes.output  # 333,34 + 20 % VAT


def test_a_date_in_a_later_fiscal_year_needs_confirm_year(runner, db, billing):
    refused = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2027-01-10"])
    assert refused.exit_code == 1
    assert "exercice 2026" in refused.output and "4181" in refused.output
    done = runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2027-01-10",
                               "--confirm-year"])
    assert done.exit_code == 0, done.output


def test_keys_delete_removes_an_unused_version_only(runner, db, billing):
    assert runner.invoke(cli, ["keys", "set", "COMPTA", "equal", "--from", "2026-03-01"]
                         ).exit_code == 0
    result = runner.invoke(cli, ["keys", "delete", "COMPTA", "--from", "2026-03-01"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert [k.valid_from for k in db.scalars(select(AllocationKey))] == [date(2026, 1, 1)]
    used = runner.invoke(cli, ["keys", "delete", "COMPTA", "--from", "2026-01-01"])
    assert used.exit_code == 1 and "répartition approuvée" in used.output


def test_imports_into_an_invoiced_period_are_refused_naming_it(runner, db, billing, tmp_path):
    assert runner.invoke(cli, ["invoices", "issue", "2026-01", "--date", "2026-02-05"]
                         ).exit_code == 0
    costs = tmp_path / "charges.csv"
    costs.write_text("date;service;kind;amount;account;label\n"
                     "20/01/2026;COMPTA;cost;250,00;606400;Fournitures\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "costs", str(costs)])
    assert refused.exit_code == 1
    assert "janvier 2026 est facturée" in refused.output and "ligne 2" in refused.output.lower()
    work = tmp_path / "temps.csv"
    work.write_text("date,staff,member,service,duration\n"
                    f"2026-01-21,{CLI_USER},A,COMPTA,2:00\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "timesheets", str(work)])
    assert refused.exit_code == 1 and "janvier 2026 est facturée" in refused.output
    assert "rouvrez janvier 2026 avec un motif" in refused.output
