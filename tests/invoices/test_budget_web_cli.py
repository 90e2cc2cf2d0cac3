"""The year's cash through the command line and the pages: a budget imported from a CSV
(and a bad file refused naming its rows and columns, nothing written), calls issued, the
revision page previewing the three modes, the true-up refused then done, the member's portal
showing its calls and true-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from accounting.budgets.models import Budget
from accounting.invoicing.models import Invoice
from accounting.org import Role
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period
from app.cli import cli
from tests.invoices.conftest import allocated_month

D = Decimal


def _arrange(db, make_member, make_service, make_user):
    return allocated_month(db, make_member, make_service, make_user)


def test_the_year_on_the_command_line(runner, db, make_member, make_service, make_user,
                                      carrier, tmp_path) -> None:
    _arrange(db, make_member, make_service, make_user)
    bad = tmp_path / "budget-faux.csv"
    bad.write_text("Service;Type;Compte;Montant\nCOMPTA;charge;641100;12000\n"
                   "PAIE;charge;64x;-5\n", encoding="utf-8")
    refused = runner.invoke(cli, ["import", "budget", str(bad), "--year", "2026",
                                  "--agreed-on", "2025-12-10", "--agreed-by", "AG"])
    assert refused.exit_code == 1
    assert "Ligne 3, colonne « Service » : service « PAIE » inconnu" in refused.output
    assert "Ligne 3, colonne « Compte »" in refused.output
    assert "Ligne 3, colonne « Montant » : Nombre négatif refusé" in refused.output
    assert db.scalar(select(func.count(Budget.id))) == 0
    good = tmp_path / "budget.csv"
    good.write_text("Service;Type;Compte;Libellé;Montant\nCOMPTA;charge;641100;Salaires;"
                    "13 000,00\nCOMPTA;subvention;740000;Région;1 000,00\n", encoding="utf-8")
    ok = runner.invoke(cli, ["import", "budget", str(good), "--year", "2026",
                             "--agreed-on", "2025-12-10", "--agreed-by", "AG"])
    assert ok.exit_code == 0, ok.output
    assert "COMPTA\t2026\trevision 1\t12000.00" in ok.output
    called = runner.invoke(cli, ["calls", "issue", "2026-T1", "--date", "2026-01-02"])
    assert called.exit_code == 0, called.output
    assert "3 calls issued for 2026-T1." in called.output
    again = runner.invoke(cli, ["calls", "issue", "2026-T1", "--date", "2026-01-02"])
    assert again.exit_code == 1 and "déjà émis" in again.output
    overlap = runner.invoke(cli, ["calls", "schedule", "2026", "--frequency", "monthly"])
    assert overlap.exit_code == 1 and "chevaucherait" in overlap.output
    early = runner.invoke(cli, ["calls", "true-up", "2026", "--date", "2027-01-05"])
    assert early.exit_code == 1
    assert "mutualise allocate 2026 --store --approve" in early.output
    allocated = runner.invoke(cli, ["allocate", "2026", "--store", "--approve"])
    assert allocated.exit_code == 0, allocated.output
    done = runner.invoke(cli, ["calls", "true-up", "2026", "--date", "2027-01-05"])
    assert done.exit_code == 0, done.output
    # Actual A 3 333,34, B 5 333,33, C 7 333,33 minus 1 000 called each.
    assert "True-up 2026: 3 invoices, 0 credit notes; 3000.00 of calls" in done.output
    totals = sorted(db.execute(select(Invoice.customer_code, Invoice.total_excl_tax)
                               .where(Invoice.role == "true_up")).all())
    assert totals == [("A", D("2333.34")), ("B", D("4333.33")), ("C", D("6333.33"))]


def test_the_pages_of_the_year(client, login_as, db, make_member, make_service, make_user,
                               carrier) -> None:
    members, _, _ = _arrange(db, make_member, make_service, make_user)
    login_as(Role.TREASURER)
    response = client.post("/budgets/2026/vote", data={
        "agreed_on": "2025-12-10", "agreed_by": "Assemblée générale",
        "lines": "Service;Type;Compte;Libellé;Montant\nCOMPTA;charge;641100;Salaires;oups\n",
    })
    assert response.status_code == 200
    assert "Nombre illisible" in response.get_data(as_text=True)
    assert db.scalar(select(func.count(Budget.id))) == 0
    response = client.post("/budgets/2026/vote", data={
        "agreed_on": "2025-12-10", "agreed_by": "Assemblée générale",
        "lines": "Service;Type;Compte;Libellé;Montant\nCOMPTA;charge;641100;Salaires;12000\n",
    })
    assert response.status_code == 302
    response = client.post("/budgets/2026/appels",
                           data={"period": "2026-T1", "issue_date": "2026-01-02"})
    assert response.status_code == 302
    assert db.scalar(select(func.count(Invoice.id)).where(Invoice.role == "call")) == 3
    client.post("/budgets/2026/vote", data={
        "agreed_on": "2026-06-10", "agreed_by": "Bureau", "reason": "Hausse",
        "lines": "Service;Type;Compte;Libellé;Montant\nCOMPTA;charge;641100;Salaires;15000\n",
    })
    page = client.get("/budgets/2026/revision").get_data(as_text=True)
    # 15 000 voted, 3 000 called: spread 4 000 ×3; next 4 500 then 3 750 ×2; at once 750.
    for figure in ("4\u202f000,00", "4\u202f500,00", "750,00", "3\u202f750,00"):
        assert figure in page, figure
    chosen = client.post("/budgets/2026/revision", data={"mode": "at_once",
                                                         "issue_date": "2026-06-11"})
    assert chosen.status_code == 302
    catch_up = db.scalars(select(Invoice).where(Invoice.role == "call",
                                                Invoice.issue_date == date(2026, 6, 11))).all()
    assert sorted(d.total_excl_tax for d in catch_up) == [D("250.00")] * 3  # 750 / 3
    home = client.get("/budgets/?annee=2026").get_data(as_text=True)
    assert "Budget et réalisé" in home and "15\u202f000,00" in home
    response = client.post("/budgets/2026/regularisation", data={"issue_date": "2027-01-05"},
                           follow_redirects=True)
    assert "pas approuvée" in response.get_data(as_text=True)
    approve(db, store_period(db, get_or_create_period(db, "2026")))
    response = client.post("/budgets/2026/regularisation", data={"issue_date": "2027-01-05"},
                           follow_redirects=True)
    # Actual A 3 333,34, B/C 5 333,33 / 7 333,33; called T1 1 000 + catch-up 250 each.
    assert "Régularisation 2026 : 3 factures et 0 avoir émis." in response.get_data(
        as_text=True)
    trued = dict(db.execute(select(Invoice.customer_code, Invoice.total_excl_tax)
                            .where(Invoice.role == "true_up")).all())
    assert trued == {"A": D("2083.34"), "B": D("4083.33"), "C": D("6083.33")}
    client.post("/logout")
    login_as(Role.MEMBER_ACCOUNTANT, member=members["A"])
    portal = client.get("/accueil").get_data(as_text=True)
    assert "Appels de fonds 2026" in portal
    assert "1\u202f200,00" in portal  # A's T1 call, incl. tax
    # After the true-up of January 2027 the portal still shows 2026: the statement, and the
    # true-up invoice (2 083,34 € excl. tax, 2 500,01 € incl. tax) beside the calls.
    assert "Régularisation due" in portal and "3\u202f333,34" in portal
    assert "2\u202f500,01" in portal
    assert client.get("/budgets/?annee=2026").status_code == 403
