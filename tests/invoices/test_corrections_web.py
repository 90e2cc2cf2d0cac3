"""The issue page after corrections: right counts, the differences as drafts, and the date
checked against the period's fiscal year (DESIGN §4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.amounts import InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.org import Role
from accounting.periods import reopen_period
from app.allocation.services import approve, store_period
from app.invoices.usecases import pay
from tests.invoices.conftest import ISSUED_ON


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_issue_page_counts_every_document_of_the_period(client, login_as, db, billing):
    prepare_invoices(db, billing.period)
    issued = issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    pay(db, member=billing.members["A"], paid_on=date(2026, 2, 10),
        amount=issued[0].total_incl_tax, invoices=[issued[0]], today=date(2026, 2, 10))
    pay(db, member=billing.members["B"], paid_on=date(2026, 2, 10), amount=Decimal("10.00"),
        invoices=[issued[1]], today=date(2026, 2, 10))
    statuses = {i.status for i in issued}
    assert statuses == {InvoiceStatus.PAID, InvoiceStatus.PARTLY_PAID, InvoiceStatus.ISSUED}
    db.commit()
    login_as(Role.ACCOUNTANT)
    text = page(client.get("/factures/emettre"))
    row = text[text.index("janvier 2026"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">0</td><td class="num">3</td>' in row.replace("\n", "")


def test_correcting_through_the_issue_page_issues_credit_notes(client, login_as, db, billing):
    prepare_invoices(db, billing.period)
    issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    reopen_period(db, billing.period, "subvention oubliée")
    add_cost(db, CostInput(CostKind.SUBSIDY, billing.compta.id, date(2026, 1, 20),
                           Decimal("1600.00"), "740000", "Région"))
    approve(db, store_period(db, billing.period), reason="subvention oubliée")
    db.commit()
    login_as(Role.ACCOUNTANT)
    text = page(client.post("/factures/emettre?periode=2026-01", data={"action": "preparer"},
                            follow_redirects=True))
    assert "3 brouillons préparés" in text, text[text.find("flash"):][:400]
    drafts = text[text.index("Adhérent</th><th>Document"):]
    assert "Avoir" in drafts and "(corrige 2026-0001)" in drafts, drafts[:1500]
    text = page(client.post("/factures/emettre?periode=2026-01",
                            data={"action": "emettre", "issue_date": "2026-02-20"},
                            follow_redirects=True))
    assert "0 facture et 3 avoirs émis : 2026-0004, 2026-0005, 2026-0006." in text


def test_a_date_in_a_later_fiscal_year_needs_a_confirmation(client, login_as, db, billing):
    prepare_invoices(db, billing.period)
    db.commit()
    login_as(Role.ACCOUNTANT)
    text = page(client.post("/factures/emettre?periode=2026-01",
                            data={"action": "emettre", "issue_date": "2027-01-10"},
                            follow_redirects=True))
    assert "janvier 2026 appartient à l&#39;exercice 2026" in text
    assert "produits à recevoir, 4181" in text
    assert db.scalars(select(Invoice.number).where(Invoice.number.is_not(None))).all() == []
    text = page(client.post("/factures/emettre?periode=2026-01",
                            data={"action": "emettre", "issue_date": "2027-01-10",
                                  "confirm_year": "y"}, follow_redirects=True))
    assert "3 factures et 0 avoir émis : 2027-0001, 2027-0002, 2027-0003." in text
