"""A year of books an accountant signs: payroll in PA against 421/431 and paid, a supplier
invoice against 401 + its code and paid, a bank charge paid directly; two months allocated,
approved and invoiced — November in December, December in January — and the year-end
cut-off. The trial balance of the year: 421, 431 and the supplier cleared by their payments,
the year's revenue equal to the year's approved allocations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, CostNature, add_cost
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.ledger.cutoff import post_cutoff
from accounting.ledger.fec_export import export_fec
from accounting.ledger.models import JournalEntry
from accounting.ledger.posting import post_issued
from accounting.ledger.reports import trial_balance
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period
from app.invoices.usecases import pay
from tests.invoices.conftest import carrier, complete  # noqa: F401 - the carrier fixture
from timesheets.models import EntryStatus, WorkEntry

D = Decimal
HOURS = {"A": 10, "B": 20, "C": 30}  # tenths of an hour: 1 h, 2 h, 3 h


def _month_costs(db, service_id: int, month: int) -> None:
    """A month of the shared accountant: 3 629,50 € of costs, each paid within the year."""
    end = date(2026, month, 28)
    payroll = dict(kind=CostKind.COST, service_id=service_id, day=end,
                   nature=CostNature.PAYROLL, social_account="431000",
                   social_paid_on=date(2026, month, 30))  # fmt: skip
    add_cost(db, CostInput(**payroll, amount=D("2450.00"), account="641100",
                           label="Salaire brut", net_pay=D("1900.00"), paid_on=end))
    add_cost(db, CostInput(**payroll, amount=D("1078.00"), account="645100",
                           label="Charges patronales"))
    add_cost(db, CostInput(CostKind.COST, service_id, date(2026, month, 1), D("89.00"), "651000",
                           "Logiciel de comptabilité", party="Éditeur SA",
                           nature=CostNature.SUPPLIER_INVOICE, supplier_code="EDITEUR",
                           paid_on=date(2026, month, 10)))  # fmt: skip
    add_cost(db, CostInput(CostKind.COST, service_id, end, D("12.50"), "627000",
                           "Frais bancaires", nature=CostNature.OTHER))


@pytest.fixture
def year(db, make_member, make_service, make_user, carrier):  # noqa: F811
    members = {code: complete(make_member(code)) for code in HOURS}
    compta = make_service("COMPTA", name="Comptabilité / gestion")
    set_key(db, compta, "100% hours", date(2026, 1, 1))
    staff = make_user()
    periods = {}
    for month in (11, 12):
        period = periods[month] = get_or_create_period(db, f"2026-{month:02d}")
        _month_costs(db, compta.id, month)
        for code, hours in HOURS.items():
            db.add(WorkEntry(staff_id=staff.id, day=period.start + timedelta(days=hours // 10),
                             minutes=hours * 6, member_id=members[code].id,
                             service_id=compta.id, status=EntryStatus.APPROVED.value))
        db.flush()
        approve(db, store_period(db, period))
    # November invoiced on 10 December and paid; December invoiced on 10 January 2027.
    prepare_invoices(db, periods[11])
    november = issue_invoices(db, periods[11], issue_date=date(2026, 12, 10), issued_by="t")
    post_issued(db, november)
    for invoice in november:
        pay(db, member=invoice.member, paid_on=date(2026, 12, 20),
            amount=invoice.total_incl_tax, invoices=[invoice], today=date(2026, 12, 20))
    prepare_invoices(db, periods[12])
    december = issue_invoices(db, periods[12], issue_date=date(2027, 1, 10), issued_by="t")
    post_issued(db, december)
    return members, compta


def _balances(db, start: date, end: date) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    return {row.account: (row.debit, row.credit, row.balance)
            for row in trial_balance(db, start, end)}  # fmt: skip


def test_a_year_posted_clears_payroll_and_suppliers_and_matches_its_allocations(db, year):
    report = post_cutoff(db, 2026, user="comptable")
    # December's shares, 100 % by hours (1 h, 2 h, 3 h of 3 629,50 €): A 604,9166… floors to
    # 604,91 and takes the last cent (largest remainder), B 1 209,83, C 1 814,75.
    assert report.accrued == {("A", "COMPTA"): D("604.92"), ("B", "COMPTA"): D("1209.83"),
                              ("C", "COMPTA"): D("1814.75")}  # fmt: skip
    rows = _balances(db, date(2026, 1, 1), date(2026, 12, 31))
    # Payroll: 2 × (2 450 gross: 1 900 net to 421 + 550 withheld to 431; 1 078 to 431).
    assert rows["641100"][:2] == (D("4900.00"), D("0"))
    assert rows["645100"][:2] == (D("2156.00"), D("0"))
    assert rows["421000"] == (D("3800.00"), D("3800.00"), D("0"))
    assert rows["431000"] == (D("3256.00"), D("3256.00"), D("0"))
    assert rows["401EDITEUR"] == (D("178.00"), D("178.00"), D("0"))
    assert "401000" not in rows
    # The bank: −2 × (1 900 + 1 628 + 89 + 12,50) out, November's invoices in (3 629,50 + VAT).
    assert rows["512000"][2] == D("4355.40") - D("7259.00")
    # Revenue of 2026 = the approved allocations of November and December: 2 × 3 629,50.
    assert rows["706000"][1] - rows["706000"][0] == D("7259.00")
    assert rows["4181A"] == (D("725.90"), D("0"), D("725.90"))
    assert rows["4181B"][2] == D("1451.80") and rows["4181C"][2] == D("2177.70")
    assert rows["445870"] == (D("0"), D("725.90"), D("-725.90"))
    # 2027: the reversal on 1 January takes December's revenue back; its invoice puts it in.
    next_year = _balances(db, date(2027, 1, 1), date(2027, 12, 31))
    assert next_year["706000"][1] - next_year["706000"][0] == D("0.00")
    assert next_year["4181A"][2] == D("0.00")


def test_the_cut_off_runs_once_and_the_fec_shows_it(db, year, tmp_path):
    post_cutoff(db, 2026)
    assert post_cutoff(db, 2026).entries == []  # nothing more to accrue
    entries = db.scalars(select(JournalEntry).where(JournalEntry.source_type.like("cutoff%"))
                         .order_by(JournalEntry.id)).all()  # fmt: skip
    assert [(e.journal_code, e.entry_date, e.source_type) for e in entries] == [
        ("OD", date(2026, 12, 31), "cutoff"), ("OD", date(2027, 1, 1), "cutoff_reversal"),
    ] * 3
    path, _ = export_fec(db, 2026, tmp_path)
    text = path.read_text("iso-8859-15")
    assert "\t4181A\t" in text and "Factures à établir - Comptabilité / gestion" in text
    journals = {line.split("\t")[0] for line in text.splitlines()[1:]}
    assert journals == {"PA", "HA", "BQ", "VT", "OD"}


def test_the_cut_off_is_posted_from_the_fec_page(client, login_as, db, year):
    from accounting.org import Role

    login_as(Role.ACCOUNTANT)
    assert "Factures à établir" in client.get("/comptabilite/fec").get_data(as_text=True)
    response = client.post("/comptabilite/fec/2026/factures-a-etablir")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Factures à établir au 31/12/2026" in html
    count = db.scalar(select(func.count()).select_from(JournalEntry)
                      .where(JournalEntry.source_type == "cutoff"))  # fmt: skip
    assert count == 3


def test_a_bank_statement_is_reconciled_against_the_bank_journal(runner, db, year, tmp_path):
    from app.cli import cli

    # November's bank as the bank printed it: the supplier paid on the 10th reached the bank
    # on the 12th; a fee the books do not have yet; the contributions' day is missing.
    statement = tmp_path / "releve.csv"
    statement.write_text(
        "Date;Libellé;Débit;Crédit\n"
        "12/11/2026;PRLV EDITEUR SA;89,00;\n"
        "28/11/2026;VIR SALAIRE;1900,00;\n"
        "28/11/2026;FRAIS TENUE DE COMPTE;12,50;\n"
        "29/11/2026;COMMISSION CB;3,20;\n", "utf-8")
    result = runner.invoke(cli, ["ledger", "reconcile", str(statement)])
    assert result.exit_code == 1, result.output
    assert "on the statement only: 2026-11-29 -3,20 COMMISSION CB (ligne 5)" in result.output
    assert "3 lines matched, 1 on the statement only" in result.output
