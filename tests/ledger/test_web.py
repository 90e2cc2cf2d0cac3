"""The ledger screens: who sees what, the figures shown, downloads, the FEC import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from accounting.costs import Cost
from accounting.invoicing.models import Invoice
from accounting.ledger.catchup import post_missing
from accounting.ledger.models import Account, FecCostRule, JournalEntry
from accounting.org import Role

A, C, M, T, DEV = (Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.TREASURER,
                   Role.DEVELOPER)  # fmt: skip
DATA = Path(__file__).resolve().parent.parent / "data" / "fec"
YEAR = {"du": "2026-01-01", "au": "2026-12-31"}


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page, its French number spaces (narrow no-break) as plain spaces."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ")


def upload(client, data: bytes, name: str) -> str:  # type: ignore[no-untyped-def]
    """Post a file to the FEC import; returns the token of the stored upload."""
    response = client.post("/comptabilite/import-fec", content_type="multipart/form-data",
                           data={"document": (io.BytesIO(data), name)})  # fmt: skip
    assert response.status_code == 302
    return response.headers["Location"].split("fichier=")[1]


@pytest.fixture
def books(db, issued):
    post_missing(db)
    return issued


def test_the_journal_lists_the_entries_of_the_range(client, login_as, books) -> None:
    login_as(C)
    html = text(client.get("/comptabilite/", query_string=YEAR))
    for reference in ("HA2026-000001", "VT2026-000001", "VT2026-000002", "VT2026-000003"):
        assert reference in html
    assert "11 lignes sur la période." in html
    assert "4 000,01" in html


def test_a_member_accountant_sees_only_the_entries_of_its_member(client, login_as, books) -> None:
    login_as(M, member=books[0].member)
    html = text(client.get("/comptabilite/", query_string=YEAR))
    assert "VT2026-000001" in html
    assert "VT2026-000002" not in html and "HA2026-000001" not in html


def test_another_members_entry_and_document_are_not_found(client, login_as, db, books) -> None:
    login_as(M, member=books[0].member)
    other = db.scalars(select(JournalEntry).where(
        JournalEntry.source_id == books[1].id, JournalEntry.source_type == "invoice")).one()
    assert client.get(f"/comptabilite/ecritures/{other.id}").status_code == 404
    assert client.get(f"/comptabilite/document/invoice/{books[1].id}").status_code == 404
    cost_id = db.scalars(select(Cost.id)).one()
    assert client.get(f"/comptabilite/document/cost/{cost_id}").status_code == 404
    own = text(client.get(f"/comptabilite/document/invoice/{books[0].id}"))
    assert "VT2026-000001" in own
    for page in ("/comptabilite/grand-livre", "/comptabilite/balance", "/comptabilite/fec",
                 "/comptabilite/grand-livre.xlsx", "/comptabilite/import-fec"):
        assert client.get(page).status_code == 403, page


def test_a_developer_has_no_access_to_the_books(client, login_as, books) -> None:
    login_as(DEV)
    assert client.get("/comptabilite/").status_code == 403


def test_an_entry_shows_its_lines_and_its_document(client, login_as, db, books) -> None:
    login_as(T)
    entry = db.scalars(select(JournalEntry).where(JournalEntry.source_type == "invoice")
                       .order_by(JournalEntry.id)).first()  # fmt: skip
    html = text(client.get(f"/comptabilite/ecritures/{entry.id}"))
    assert "Facture 2026-0001 – Les Jardins de la Dombes" in html
    assert f'href="/factures/{books[0].id}"' in html
    assert "445710" in html and "666,67" in html


def test_drill_down_from_an_invoice_to_its_entries(client, login_as, books) -> None:
    login_as(C)
    link = f'href="/comptabilite/document/invoice/{books[2].id}"'
    assert link in text(client.get(f"/factures/{books[2].id}"))
    html = text(client.get(f"/comptabilite/document/invoice/{books[2].id}"))
    assert "VT2026-000003" in html and "8 800,00" in html


def test_the_general_ledger_runs_the_balance_of_an_account(client, login_as, books) -> None:
    login_as(C)
    html = text(client.get("/comptabilite/grand-livre", query_string={**YEAR, "compte": "445710"}))
    # 666,67 then 1 733,34 then 3 200,01 of VAT collected (credit balances, negative).
    for balance in ("-666,67", "-1 733,34", "-3 200,01"):
        assert balance in html


def test_the_trial_balance_totals_are_equal(client, login_as, books) -> None:
    login_as(T)
    html = text(client.get("/comptabilite/balance", query_string=YEAR))
    assert "débit = crédit" in html
    assert "35 200,01" in html


def test_the_trial_balance_and_the_chart_are_paged_with_the_total_of_every_account(
    client, login_as, db, books, monkeypatch
) -> None:
    from app.ledger import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 4)
    login_as(A)
    first = text(client.get("/comptabilite/balance", query_string=YEAR))
    second = text(client.get("/comptabilite/balance", query_string={**YEAR, "page": 2}))
    # The worked example's seven accounts by number: 401000 … 411C, then 445710 … 706000.
    assert "411C" in first and "445710" not in first
    assert "445710" in second and "411C" not in second and "Page 2 sur 2" in second
    for html in (first, second):
        assert "Total des 7 comptes — débit = crédit" in html
        assert "35 200,01" in html
    numbers = sorted(db.scalars(select(Account.number)))
    chart = text(client.get("/comptabilite/plan-comptable?page=2"))
    assert f"Comptes ({len(numbers)})" in chart and "Page 2 sur" in chart
    shown = [n for n in numbers if f'<td class="code">{n}</td>' in chart]
    assert shown == numbers[4:8]


def test_the_ledger_workbook_downloads(client, login_as, books) -> None:
    login_as(T)
    with client.get("/comptabilite/grand-livre.xlsx", query_string=YEAR) as response:
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        data = response.data
    assert "grand-livre-2026-01-01-2026-12-31.xlsx" in disposition
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Journal", "Grand livre", "Balance"]


def test_the_fec_downloads_with_its_legal_name(client, login_as, books) -> None:
    login_as(C)
    assert "FEC 2026" in text(client.get("/comptabilite/fec"))
    with client.get("/comptabilite/fec/2026.txt") as response:
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        data = response.data
    assert "782899439FEC20261231.txt" in disposition
    assert data.startswith(b"JournalCode\tJournalLib\tEcritureNum")
    assert data.count(b"\r\n") == 12  # header and 11 lines


def test_an_uploaded_fec_is_checked_line_by_line(client, login_as) -> None:
    login_as(C)
    data = (DATA / "987654321FEC20251231-broken.txt").read_bytes()
    html = text(client.post("/comptabilite/fec/controle", data={
        "document": (io.BytesIO(data), "987654321FEC20251231-broken.txt")},
        content_type="multipart/form-data"))  # fmt: skip
    assert "Non conforme" in html
    assert "12 erreurs, 5 avertissements" in html
    assert "Debit « 100.00 » n&#39;est pas un montant valide" in html


def test_importing_a_fec_previews_then_adds_costs_once(client, login_as, db, make_service):
    make_service("COMPTA", name="Comptabilité / gestion")
    make_service("DEV", name="Chargé de développement")
    login_as(C)
    data = (DATA / "123456782FEC20251231.txt").read_bytes()
    token = upload(client, data, "porteuse.txt")
    html = text(client.get("/comptabilite/import-fec", query_string={
        "fichier": token, "regles": "606* = COMPTA\n604* = DEV"}))  # fmt: skip
    assert "2 nouvelles lignes" in html
    assert "Fournisseur Beta" in html
    # The sales and bank entries import nothing: listed with their total, confirmed by a box.
    assert "Total laissé de côté" in html and 'name="accept_unmapped"' in html
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    form = {"fichier": token, "rules": "606* = COMPTA\n604* = DEV", "analytic_column": ""}
    refused = client.post("/comptabilite/import-fec/confirmer", data=form)
    assert refused.status_code == 302
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    assert "laissé de côté" in text(client.get(refused.headers["Location"]))
    done = client.post("/comptabilite/import-fec/confirmer", data={**form,
                                                                  "accept_unmapped": "y"})
    assert done.status_code == 302
    assert db.scalar(select(func.count()).select_from(Cost)) == 2
    assert db.scalar(select(func.count()).select_from(FecCostRule)) == 2
    # The same file again: the saved rules come back, nothing new to add.
    token = upload(client, data, "porteuse.txt")
    html = text(client.get("/comptabilite/import-fec", query_string={"fichier": token}))
    assert "606* = COMPTA" in html
    assert "0 nouvelle ligne ; 2 déjà importées." in html


def test_a_broken_fec_import_shows_every_error(client, login_as, make_service) -> None:
    make_service("DEV")
    login_as(A)
    data = (DATA / "987654321FEC20251231-broken.txt").read_bytes()
    token = upload(client, data, "broken.txt")
    html = text(client.get("/comptabilite/import-fec", query_string={
        "fichier": token, "regles": "6* = DEV"}))  # fmt: skip
    assert "8 erreurs : rien n'a été enregistré." in html
    assert "Debit « 100.00 »" in html


def test_the_admin_relabels_an_account_and_others_cannot(client, login_as, db, books) -> None:
    login_as(A)
    account = db.scalars(select(Account).where(Account.number == "706000")).one()
    response = client.post(f"/comptabilite/plan-comptable/{account.id}",
                           data={"label": "Refacturation des services mutualisés"})  # fmt: skip
    assert response.status_code == 302
    db.refresh(account)
    assert account.label == "Refacturation des services mutualisés"
    assert "Refacturation des services" in text(client.get("/comptabilite/plan-comptable"))


def test_an_accountant_reads_the_chart_but_does_not_edit_it(client, login_as, db, books) -> None:
    login_as(C)
    account = db.scalars(select(Account).where(Account.number == "706000")).one()
    rename = client.post(f"/comptabilite/plan-comptable/{account.id}", data={"label": "x"})
    assert rename.status_code == 403
    add = client.post("/comptabilite/plan-comptable", data={"number": "625100", "label": "V"})
    assert add.status_code == 403


def test_the_admin_adds_an_account_and_the_default_chart(client, login_as, db) -> None:
    login_as(A)
    client.post("/comptabilite/plan-comptable", data={"number": "625100", "label": "Voyages"})
    assert db.scalar(select(Account.label).where(Account.number == "625100")) == "Voyages"
    bad = text(client.post("/comptabilite/plan-comptable", data={"number": "AB1", "label": "X"}))
    assert "trois chiffres du plan comptable" in bad
    client.post("/comptabilite/plan-comptable/defaut")
    assert db.scalar(select(Account.label).where(Account.number == "445660")) is not None
    assert db.scalar(select(Account.label).where(Account.number == "625100")) == "Voyages"


def test_the_member_side_for_its_accountant_only(client, login_as, books) -> None:
    login_as(M, member=books[0].member)
    html = text(client.get("/comptabilite/adherent", query_string=YEAR))
    assert "6226" in html and "445660" in html and "401VH" in html
    own = client.get(f"/comptabilite/adherent/{books[0].member_id}/ecritures.txt",
                     query_string=YEAR)  # fmt: skip
    assert own.status_code == 200
    assert b"401VH" in own.data
    other = client.get(f"/comptabilite/adherent/{books[1].member_id}/ecritures.xlsx",
                       query_string=YEAR)  # fmt: skip
    assert other.status_code == 404
    assert client.get("/comptabilite/adherent", query_string={
        "adherent": books[1].member_id}).status_code == 404  # fmt: skip


def test_unposted_documents_are_shown_and_posted_on_demand(client, login_as, db, issued) -> None:
    login_as(C)
    html = text(client.get("/comptabilite/"))
    assert "Documents définitifs sans écriture" in html and "3 factures" in html
    assert client.post("/comptabilite/rattrapage").status_code == 302
    assert db.scalar(select(func.count()).select_from(JournalEntry)
                     .where(JournalEntry.source_type == "invoice")) == 3  # fmt: skip
    assert "sans écriture" not in text(client.get("/comptabilite/"))


def test_issuing_through_the_screen_posts_the_entries(client, login_as, db, billing) -> None:
    login_as(C)
    code = billing.period.code
    client.post("/factures/emettre", data={"periode": code, "action": "preparer"})
    client.post("/factures/emettre", data={"periode": code, "action": "emettre",
                                           "issue_date": "2026-02-05"})  # fmt: skip
    invoices = db.scalars(select(Invoice).where(Invoice.status != "draft")).all()
    assert len(invoices) == 3
    assert db.scalar(select(func.count()).select_from(JournalEntry)
                     .where(JournalEntry.source_type == "invoice")) == 3  # fmt: skip


def test_the_admin_edits_the_account_mapping_and_others_only_see_it(client, login_as, db):
    from accounting.ledger.models import AccountMapping

    login_as(A)
    done = client.post("/comptabilite/correspondances",
                       data={"kind": "prefix", "source": "6063", "target": "606400"})
    assert done.status_code == 302
    html = text(client.get("/comptabilite/correspondances"))
    assert "6063…" in html and "606400" in html
    bad = text(client.post("/comptabilite/correspondances",
                           data={"kind": "exact", "source": "60A", "target": "606400"}))
    assert "Compte source « 60A » refusé" in bad
    (row,) = db.scalars(select(AccountMapping)).all()
    assert client.post(f"/comptabilite/correspondances/{row.id}/supprimer").status_code == 302
    assert db.scalars(select(AccountMapping)).all() == []


def test_an_accountant_reads_the_mapping_but_does_not_edit_it(client, login_as, db):
    login_as(C)
    assert client.get("/comptabilite/correspondances").status_code == 200
    refused = client.post("/comptabilite/correspondances",
                          data={"kind": "prefix", "source": "6063", "target": "606400"})
    assert refused.status_code == 403
