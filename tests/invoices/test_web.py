"""The invoices screens through the Flask client: issue with confirmation, credit notes,
payments, import, balances; member scope (others' ids are 404); no route edits an issued
document."""

from __future__ import annotations

import html
import io
import re
import zipfile
from decimal import Decimal

import pytest
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from accounting.facturx.cii import NSMAP
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.org import Role
from tests.invoices.conftest import ISSUED_ON

D = Decimal


@pytest.fixture
def issued(db, billing):
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=ISSUED_ON)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_accountant_prepares_then_issues_a_period(client, login_as, db, billing):
    login_as(Role.ACCOUNTANT)
    text = page(client.get("/factures/emettre"))
    assert "janvier 2026" in text
    response = client.post("/factures/emettre?periode=2026-01", data={"action": "preparer"})
    assert response.status_code == 302
    text = page(client.get("/factures/emettre?periode=2026-01"))
    assert "3 documents" in text and "Émettre 3 documents" in text
    assert "data-confirm" in text
    response = client.post("/factures/emettre?periode=2026-01",
                           data={"action": "emettre", "issue_date": "2026-02-05"},
                           follow_redirects=True)
    text = page(response)
    assert "3 factures et 0 avoir émis : 2026-0001, 2026-0002, 2026-0003." in text
    assert db.scalars(select(Invoice.number).order_by(Invoice.number)).all() == [
        "2026-0001", "2026-0002", "2026-0003"]


def test_issuing_an_unapproved_period_shows_the_reason(client, login_as, db, unapproved):
    login_as(Role.ACCOUNTANT)
    text = page(client.post("/factures/emettre?periode=2026-01", data={"action": "preparer"},
                            follow_redirects=True))
    assert "pas encore approuvée par le trésorier" in text
    assert db.scalars(select(Invoice)).all() == []


def test_issuing_twice_is_refused_with_a_message(client, login_as, issued):
    login_as(Role.ACCOUNTANT)
    text = page(client.post("/factures/emettre?periode=2026-01", data={"action": "preparer"},
                            follow_redirects=True))
    assert "déjà facturée" in text


def test_missing_mentions_are_listed_before_issuing(client, login_as, db, billing):
    prepare_invoices(db, billing.period)
    billing.members["B"].siret = None
    db.flush()
    login_as(Role.ACCOUNTANT)
    text = page(client.get("/factures/emettre?periode=2026-01"))
    assert "adhérent B SCOP Bois &amp; Co : SIRET (donne le SIREN)" in text
    text = page(client.post("/factures/emettre?periode=2026-01",
                            data={"action": "emettre", "issue_date": "2026-02-05"},
                            follow_redirects=True))
    assert "complétez d&#39;abord les mentions obligatoires" in text


def test_the_list_detail_and_download_for_the_treasurer(client, login_as, issued):
    login_as(Role.TREASURER)
    text = page(client.get("/factures/?periode=2026-01"))
    assert "2026-0001" in text and "2026-0003" in text
    text = page(client.get(f"/factures/{issued[0].id}"))
    assert "Comptabilité / gestion — janvier 2026" in text and "4\u202f000,01" in text
    response = client.get(f"/factures/{issued[0].id}/xlsx")
    assert response.status_code == 200
    assert "FACTURE-2026-0001.xlsx" in response.headers["Content-Disposition"]
    response = client.get("/factures/periode/2026-01.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        # Each workbook with its Factur-X PDF beside it, as the CLI export (issue 18).
        assert archive.namelist() == [
            "FACTURE-2026-0001.xlsx", "FACTURE-2026-0001.pdf",
            "FACTURE-2026-0002.xlsx", "FACTURE-2026-0002.pdf",
            "FACTURE-2026-0003.xlsx", "FACTURE-2026-0003.pdf"]
        pdf = archive.read("FACTURE-2026-0001.pdf")
    assert pdf.startswith(b"%PDF-")
    name, xml = get_xml_from_pdf(pdf, check_xsd=True)  # a Factur-X: the XML inside, valid
    assert name == "factur-x.xml"
    root = etree.fromstring(xml)
    assert root.xpath("//rsm:ExchangedDocument/ram:ID/text()", namespaces=NSMAP) == [
        "2026-0001"]
    # A: 3 333,34 € HT + 20 % VAT 666,67 € (DESIGN §4's worked example).
    assert root.xpath("//ram:GrandTotalAmount/text()", namespaces=NSMAP) == ["4000.01"]
    xmp = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp


def _numbers(text: str) -> list[str]:
    return sorted(set(re.findall(r">(2026-\d{4})</a>", text)))


def test_the_member_filter_is_a_select_for_a_small_cluster(client, login_as, billing, issued):
    login_as(Role.TREASURER)
    b = billing.members["B"]
    text = page(client.get(f"/factures/?adherent={b.id}"))
    assert '<select id="adherent"' in text and "data-options-url" not in text
    assert _numbers(text) == ["2026-0002"]


def test_the_member_filter_is_a_text_input_beyond_the_select_limit(
    client, login_as, billing, issued, monkeypatch
):
    import app.invoices.routes as invoice_routes

    monkeypatch.setattr(invoice_routes, "MEMBER_SELECT_LIMIT", 2)  # three members here
    login_as(Role.TREASURER)
    b = billing.members["B"]
    text = page(client.get("/factures/"))
    assert '<select id="adherent"' not in text
    assert 'data-options-url="/temps/adherents.json"' in text and "timesheets.js" in text
    assert _numbers(text) == ["2026-0001", "2026-0002", "2026-0003"]
    # The typed code, the suggestion "CODE — Name" (any case) and an id all filter.
    for typed in ("B", f"b — {b.name}", str(b.id)):
        text = page(client.get("/factures/", query_string={"adherent": typed}))
        assert _numbers(text) == ["2026-0002"], typed
        assert f'value="B — {b.name}"' in html.unescape(text)  # shown as suggested
    # Unknown or common work: said in French, the filter ignored.
    text = html.unescape(page(client.get("/factures/", query_string={"adherent": "ZZZ"})))
    assert "Adhérent inconnu « ZZZ »" in text
    assert _numbers(text) == ["2026-0001", "2026-0002", "2026-0003"]
    text = html.unescape(page(client.get("/factures/?adherent=common")))
    assert "toujours adressées à un adhérent" in text


def test_a_member_accountant_has_no_member_filter(client, login_as, billing, issued, monkeypatch):
    import app.invoices.routes as invoice_routes

    monkeypatch.setattr(invoice_routes, "MEMBER_SELECT_LIMIT", 2)
    login_as(Role.MEMBER_ACCOUNTANT, member=billing.members["B"])
    text = page(client.get("/factures/"))
    assert 'id="adherent"' not in text and "timesheets.js" not in text
    assert _numbers(text) == ["2026-0002"]


def test_a_member_accountant_sees_and_downloads_only_their_own(client, login_as, billing, issued):
    login_as(Role.MEMBER_ACCOUNTANT, member=billing.members["B"])
    text = page(client.get("/factures/"))
    assert "2026-0002" in text and "2026-0001" not in text and "2026-0003" not in text
    assert client.get(f"/factures/{issued[1].id}").status_code == 200
    assert client.get(f"/factures/{issued[1].id}/xlsx").status_code == 200
    for other in (issued[0], issued[2]):
        assert client.get(f"/factures/{other.id}").status_code == 404
        assert client.get(f"/factures/{other.id}/xlsx").status_code == 404
    assert client.get("/factures/periode/2026-01.zip").status_code == 403
    assert client.get("/factures/paiements").status_code == 403
    assert client.post("/factures/emettre?periode=2026-01",
                       data={"action": "preparer"}).status_code == 403


def test_no_route_edits_or_deletes_an_issued_invoice(app, client, login_as, db, issued):
    login_as(Role.ADMIN)
    invoice = issued[0]
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/factures/{invoice.id}").status_code == 405
    assert client.post(f"/factures/{invoice.id}").status_code == 405
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("invoices.")]
    assert not [r for r in rules if any(w in r.rule for w in ("modifier", "supprimer", "edit"))]
    db.refresh(invoice)
    assert invoice.total_incl_tax == D("4000.01")


def test_a_credit_note_through_the_form(client, login_as, db, issued):
    login_as(Role.ACCOUNTANT)
    invoice = issued[1]
    text = page(client.get(f"/factures/{invoice.id}/avoir"))
    assert "5\u202f333,33" in text
    text = page(client.post(f"/factures/{invoice.id}/avoir",
                            data={"amount": "99999", "reason": "x", "issue_date": "2026-02-10"}))
    assert "dépasse ce qui reste à créditer" in text
    response = client.post(f"/factures/{invoice.id}/avoir",
                           data={"amount": "1 000,00", "reason": "Geste",
                                 "issue_date": "2026-02-10"}, follow_redirects=True)
    text = page(response)
    assert "Avoir 2026-0004 émis sur la facture 2026-0002." in text
    assert "Avoir sur" in text


def test_recording_a_payment_larger_than_due_says_the_surplus_is_a_credit(
    client, login_as, db, billing, issued
):
    login_as(Role.TREASURER)
    text = page(client.get("/factures/paiements/nouveau?facture=2026-0001"))
    assert 'value="4000,01"' in text
    response = client.post("/factures/paiements/nouveau", data={
        "member": billing.members["A"].id, "paid_on": "2026-03-01", "amount": "4 100,01",
        "method": "transfer", "reference": "VIR", "invoice": "2026-0001"},
        follow_redirects=True)
    text = page(response)
    assert "100,00\u00a0€ dépassent ce qui était dû : gardés en crédit" in text
    text = page(client.get("/factures/soldes"))
    assert "crédit 100,00" in text
    text = page(client.post(f"/factures/soldes/{billing.members['A'].id}/imputer",
                            follow_redirects=True))
    assert "Rien à imputer pour A" in text


@pytest.mark.parametrize(("amount", "message"), [("abc", "n&#39;est pas un montant"),
                                                  ("-5", "doit être positif"),
                                                  ("1,234", "deux décimales")])
def test_a_bad_payment_amount_is_refused_by_the_form(client, login_as, billing, issued,
                                                     amount, message):
    login_as(Role.TREASURER)
    text = page(client.post("/factures/paiements/nouveau", data={
        "member": billing.members["A"].id, "paid_on": "2026-03-01", "amount": amount,
        "method": "transfer"}))
    assert message in text


def test_the_payments_import_previews_then_confirms(client, login_as, db, issued, tmp_path,
                                                    app, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    login_as(Role.TREASURER)
    data = "Date;Facture;Montant;Référence\n01/03/2026;2026-0002;6400,00;VIR SCOP\n"
    response = client.post("/factures/paiements/import", data={
        "document": (io.BytesIO(data.encode()), "releve.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    text = page(client.get(response.headers["Location"]))
    assert "1 paiement à enregistrer" in text
    assert db.scalars(select(Payment)).all() == []
    token = response.headers["Location"].split("fichier=")[1]
    text = page(client.post("/factures/paiements/import/confirmer", data={"fichier": token},
                            follow_redirects=True))
    assert "Import terminé" in text
    db.refresh(issued[1])
    assert issued[1].status == "paid"


def test_a_bad_statement_shows_every_row_error(client, login_as, issued, tmp_path, app,
                                               monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    login_as(Role.TREASURER)
    data = "Date;Adhérent;Montant\n32/03/2026;A;10\n01/03/2026;ZZ;10\n"
    response = client.post("/factures/paiements/import", data={
        "document": (io.BytesIO(data.encode()), "releve.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    text = page(response)
    assert "Code adhérent inconnu" in text and "<td class=\"num\">2</td>" in text


def test_balances_and_overdue_pages(client, login_as, issued):
    login_as(Role.TREASURER)
    text = page(client.get("/factures/soldes"))
    assert "Les Jardins de la Dombes" in text
    text = page(client.get("/factures/retards"))
    assert "2026-0001" in text  # due 07/03/2026, unpaid, today is later


def test_the_admin_sets_a_vat_regime(client, login_as, db, billing):
    login_as(Role.ADMIN)
    response = client.post("/factures/regimes-tva", data={
        "member": billing.members["B"].id, "service": billing.compta.id,
        "regime": "exempt_261b"}, follow_redirects=True)
    assert "Régime de TVA enregistré" in page(response)
    drafts = {d.customer_code: d for d in prepare_invoices(db, billing.period)}
    assert drafts["B"].total_vat == D("0.00")


def test_only_the_admin_sets_vat_regimes(client, login_as, billing):
    login_as(Role.ACCOUNTANT)
    assert client.get("/factures/regimes-tva").status_code == 403


def test_the_balances_are_paged_with_the_total_of_every_member(client, login_as, issued,
                                                                monkeypatch):
    from app.invoices import routes

    monkeypatch.setattr(routes, "PER_PAGE", 2)
    login_as(Role.TREASURER)
    first = page(client.get("/factures/soldes"))
    second = page(client.get("/factures/soldes?page=2"))
    # Members by code: A and B on the first page, C on the second.
    assert "Les Jardins de la Dombes" in first and "SCOP Bois" in first
    assert "Les Jardins de la Dombes" not in second and "SCOP Bois" not in second
    assert "Page 2 sur 2" in second
    # Both pages end with the same total of the three invoices: 4 000,01 + 6 400 + 8 800.
    for text in (first, second):
        assert "Total (3 adhérents)" in text
        assert 'data-value="19200.01"' in text
