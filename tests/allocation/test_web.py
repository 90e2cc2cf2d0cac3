"""The allocation pages: costs, keys, periods, runs, explanations, downloads, and scopes."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from accounting.allocation.models import AllocationKey, AllocationRun, RunStatus
from accounting.audit import AuditEvent
from accounting.costs import Cost
from accounting.org import Role
from accounting.periods import Period
from app.allocation.services import approve, store_period
from tests.allocation.conftest import D

A, C, M, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.TREASURER


def page(response) -> str:
    """The HTML, French number spaces (narrow or not, non-breaking) turned into plain ones."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")


def count_costs(db) -> int:
    return db.scalar(select(func.count()).select_from(Cost))


def test_the_costs_page_lists_lines_and_totals_per_service(client, login_as, cluster):
    login_as(C)
    html = page(client.get("/repartition/charges?periode=2026-01"))
    assert "Salaires janvier" in html and "FSE" in html
    assert "20 000,00" in html and "16 000,00" in html  # costs, and net of the subsidy


def test_a_cost_entered_on_screen_is_stored_and_audited(client, login_as, db, cluster):
    login_as(C)
    before = count_costs(db)
    response = client.post("/repartition/charges/nouvelle", data={
        "kind": "cost", "service_id": cluster["compta"].id, "day": "2026-01-20",
        "amount": "1 234,56", "account": "606400", "label": "Papier", "party": "Bureau",
        "nature": "supplier_invoice",
    })
    assert response.status_code == 302
    assert count_costs(db) == before + 1
    line = db.scalars(select(Cost).where(Cost.label == "Papier")).one()
    assert line.amount == D("1234.56")
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "costs", AuditEvent.object_id == str(line.id))) == 1


def test_a_bad_cost_shows_field_errors_and_stores_nothing(client, login_as, db, cluster):
    login_as(C)
    before = count_costs(db)
    html = page(client.post("/repartition/charges/nouvelle", data={
        "kind": "cost", "service_id": cluster["compta"].id, "day": "2026-01-20",
        "amount": "douze", "account": "411000", "label": "Papier",
    }))
    assert "Montant illisible" in html
    assert count_costs(db) == before


def test_closed_periods_refuse_changes_through_the_ui(client, login_as, db, cluster):
    login_as(A)
    period = cluster["period"]
    assert client.post(f"/repartition/periodes/{period.id}/cloturer").status_code == 302
    db.refresh(period)
    assert period.is_closed
    before = count_costs(db)
    response = client.post("/repartition/charges/nouvelle", data={
        "kind": "cost", "service_id": cluster["compta"].id, "day": "2026-01-20",
        "amount": "10", "account": "606400", "label": "Papier", "nature": "other",
    }, follow_redirects=True)
    assert "La période janvier 2026 est clôturée" in page(response)
    assert count_costs(db) == before
    line = db.scalars(select(Cost)).first()
    response = client.post(f"/repartition/charges/cost/{line.id}/supprimer",
                           follow_redirects=True)
    assert "est clôturée" in page(response)
    assert count_costs(db) == before
    upload = {"document": (io.BytesIO(
        "Date;Service;Nature;Montant;Compte;Libellé\n15/01/2026;COMPTA;charge;5;606400;X\n"
        .encode()), "charges.csv")}
    refused = client.post("/repartition/charges/import", data=upload,
                          content_type="multipart/form-data")
    assert refused.status_code == 422  # a refused file is a 4xx (issue 13)
    html = refused.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")
    assert "janvier 2026 est clôturée" in html and "rien n'a été enregistré" in html
    assert count_costs(db) == before
    # reopening needs a reason, and is audited
    no_reason = client.post(f"/repartition/periodes/{period.id}/rouvrir", data={"reason": ""},
                            follow_redirects=True)
    db.refresh(period)
    assert "Dites pourquoi" in page(no_reason) and period.is_closed
    client.post(f"/repartition/periodes/{period.id}/rouvrir", data={"reason": "oubli"})
    db.refresh(period)
    assert not period.is_closed


def test_importing_a_costs_file_from_the_screen(client, login_as, db, cluster):
    login_as(C)
    before = count_costs(db)
    data = ("Date;Service;Nature;Montant;Compte;Libellé\n"
            "15/01/2026;COMPTA;charge;5,50;606400;Encre\n").encode()
    response = client.post("/repartition/charges/import", content_type="multipart/form-data",
                           data={"document": (io.BytesIO(data), "c.csv")}, follow_redirects=True)
    assert ("1 créée, 0 modifiée, 0 inchangée sur 1 ligne de charges et subventions."
            in page(response))
    again = client.post("/repartition/charges/import", content_type="multipart/form-data",
                        data={"document": (io.BytesIO(data), "c.csv")}, follow_redirects=True)
    assert "Rien à modifier" in page(again)
    assert count_costs(db) == before + 1


def test_the_key_editor_points_at_the_wrong_character_and_previews(client, login_as, cluster):
    login_as(A)
    html = page(client.post("/repartition/cles/COMPTA", data={
        "text": "25% equal + 75% hour", "valid_from": "2026-02-01", "periode": "2026-01",
        "action": "preview",
    }))
    assert "Base inconnue « hour »" in html
    assert "25% equal + 75% hour\n                ^</pre>" in html
    html = page(client.post("/repartition/cles/COMPTA", data={
        "text": "hours", "valid_from": "2026-02-01", "periode": "2026-01", "action": "preview",
    }))
    # in force: A 3 333,34 ; proposed « hours »: A 16 000 × 10/60 = 2 666,67 (diff −666,67)
    assert "3 333,34" in html and "2 666,67" in html and "-666,67" in html


def test_the_key_editor_reads_french_previews_without_saving_and_shows_keys_in_french(
    client, login_as, db, cluster
):
    login_as(A)
    before = db.scalar(select(func.count()).select_from(AllocationKey))
    # The form's page shows the key in force (stored « 25% equal + 75% hours ») in French.
    html = page(client.get("/repartition/cles/COMPTA"))
    assert 'value="25 % part égale + 75 % heures"' in html
    html = page(client.post("/repartition/cles/COMPTA", data={
        "text": "Heures", "valid_from": "2026-02-01", "periode": "2026-01", "action": "preview",
    }))
    # the same figures as « hours »: A 16 000 × 10/60 = 2 666,67, 666,67 less than today
    assert "2 666,67" in html and "-666,67" in html
    assert "Clé proposée : <span class=\"code\">heures</span>" in html
    assert db.scalar(select(func.count()).select_from(AllocationKey)) == before  # not saved
    html = page(client.post("/repartition/cles/COMPTA", data={
        "text": "25 % part égale + 75 % heure", "valid_from": "2026-02-01", "periode": "2026-01",
        "action": "preview",
    }))
    assert "Base inconnue « heure »" not in html  # « heure » is a basis too
    html = page(client.post("/repartition/cles/COMPTA", data={
        "text": "25 % part égale + 75 % heurs", "valid_from": "2026-02-01",
        "periode": "2026-01", "action": "preview",
    }))
    assert "Base inconnue « heurs »" in html
    assert "25 % part égale + 75 % heurs\n                       ^</pre>" in html
    response = client.post("/repartition/cles/COMPTA", data={
        "text": "25 % part égale + 75 % heures, travail commun à parts égales",
        "valid_from": "2026-02-01", "action": "save",
    })
    assert response.status_code == 302
    key = db.scalars(select(AllocationKey).where(AllocationKey.valid_from == date(2026, 2, 1))
                     ).one()
    assert key.text == "25% equal + 75% hours, common_by=equal"  # stored canonical
    html = page(client.get("/repartition/cles"))
    assert "25 % part égale + 75 % heures, travail commun à parts égales" in html
    assert "common_by" not in html


def test_only_the_admin_saves_a_key(client, login_as, db, cluster):
    login_as(T)
    data = {"text": "hours", "valid_from": "2026-02-01", "action": "save"}
    assert client.post("/repartition/cles/COMPTA", data=data).status_code == 403
    client.post("/logout")
    login_as(A)
    response = client.post("/repartition/cles/COMPTA", data=dict(
        data, agreed_on="2026-01-20", agreed_by="Réunion mensuelle"))
    assert response.status_code == 302
    key = db.scalars(select(AllocationKey).where(AllocationKey.valid_from == date(2026, 2, 1))
                     ).one()
    assert (key.text, key.agreed_by) == ("hours", "Réunion mensuelle")


def test_the_comparison_puts_candidate_keys_side_by_side(client, login_as, cluster):
    login_as(T)
    query = "service=COMPTA&periode=2026-01&cle=25%25+equal+%2B+75%25+hours&cle=equal&cle=revenue"
    html = page(client.get(f"/repartition/cles/comparer?{query}"))
    assert "3 333,34" in html and "5 333,34" in html  # equal: 16 000 / 3, spare cent to A
    assert "Chiffre d&#39;affaires 2026 manquant pour : A, B, C" in html
    response = client.get(f"/repartition/cles/comparer.xlsx?{query}")
    ws = load_workbook(io.BytesIO(response.data))["Comparaison"]
    assert [c.value for c in ws[6]][:4] == ["A", "Adhérent 1", 3333.34, 5333.34]
    assert ws["F6"].value == "=D6-C6"  # key 2 − key 1
    assert ws["G6"].value is None  # key 3 was refused: no difference


def test_preview_store_approve_and_explain_every_cent(client, login_as, db, cluster):
    login_as(A, T)
    html = page(client.get("/repartition/apercu?periode=2026-01"))
    assert "3 333,34" in html and "16 000,00" in html
    response = client.post("/repartition/apercu", data={"periode": "2026-01"})
    run = db.scalars(select(AllocationRun)).one()
    assert response.headers["Location"].endswith(f"/repartition/{run.id}")
    html = page(client.get(f"/repartition/{run.id}/COMPTA/A"))
    assert "1 part sur 3" in html and "10 h" in html and "60 h" in html
    assert "3 333,333333" in html and "0,01" in html
    assert "25 % part égale (1 part sur 3) + 75 % au prorata des heures (10 h sur 60 h)" in html
    assert client.post(f"/repartition/{run.id}/approuver").status_code == 302
    db.refresh(run)
    assert run.status == RunStatus.APPROVED
    download = client.get("/repartition/classeur/2026-01.xlsx")
    assert download.status_code == 200
    assert load_workbook(io.BytesIO(download.data)).sheetnames[0] == "Synthèse"


def test_the_accountant_cannot_approve(client, login_as, db, cluster):
    run = store_period(db, cluster["period"])
    login_as(C)
    assert client.post(f"/repartition/{run.id}/approuver").status_code == 403


def test_a_member_accountant_sees_only_their_row_of_approved_runs(
    client, login_as, db, cluster
):
    run = store_period(db, cluster["period"])
    login_as(M, member=cluster["members"]["B"])
    assert client.get(f"/repartition/{run.id}").status_code == 404  # not approved yet
    approve(db, run)
    html = page(client.get(f"/repartition/{run.id}"))
    assert "5 333,33" in html and "3 333,34" not in html and "7 333,33" not in html
    # Its own share, never the cluster's total under it.
    matrix = html[html.index('id="matrice"'):]
    assert "Ma part de chaque service" in html
    assert "<tfoot>" not in matrix[: matrix.index("</table>")]
    assert client.get(f"/repartition/{run.id}/COMPTA/B").status_code == 200
    assert client.get(f"/repartition/{run.id}/COMPTA/A").status_code == 404
    assert client.get("/repartition/apercu?periode=2026-01").status_code == 403
    assert client.get("/repartition/classeur/2026-01.xlsx").status_code == 403
    assert client.get("/repartition/charges").status_code == 403


@pytest.mark.parametrize("path", ["/repartition/", "/repartition/cles", "/repartition/periodes",
                                  "/repartition/cles/comparer", "/repartition/charges/import",
                                  "/repartition/charges/nouvelle", "/repartition/cles/COMPTA"])
def test_every_page_renders_for_the_admin(client, login_as, cluster, path):
    login_as(A, T, C)
    page(client.get(path))


def test_opening_a_period_from_the_screen(client, login_as, db):
    login_as(A)
    response = client.post("/repartition/periodes", data={"code": "2026-T2"})
    assert response.status_code == 302
    period = db.scalars(select(Period).where(Period.kind == "quarter")).one()
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 6, 30))
    html = page(client.post("/repartition/periodes", data={"code": "2026-T5"}))
    assert "illisible" in html


def test_the_explanation_shows_fractional_part_pools(client, login_as, db, cluster):
    # one more cent: pool 16 000,01, the equal part shares 4 000,0025 €
    from accounting.costs import CostInput, CostKind, add_cost

    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 2), D("0.01"),
                           "627000", "Frais bancaires"))
    run = store_period(db, cluster["period"])
    login_as(T)
    html = page(client.get(f"/repartition/{run.id}/COMPTA/C"))
    assert "4 000,0025 €" in html  # the pool of the equal part, exactly
    assert "1 333,334167 €" in html  # C's equal part: 4 000,0025 / 3


def test_a_cost_says_what_it_is_and_is_posted_accordingly(client, login_as, db, cluster):
    from accounting.ledger.models import JournalEntry

    login_as(C)
    base = {"kind": "cost", "service_id": cluster["compta"].id, "day": "2026-01-28",
            "amount": "2 450,00", "account": "641100", "label": "Salaire janvier"}
    html = page(client.post("/repartition/charges/nouvelle", data=base))
    assert "Dites de quoi il" in html
    response = client.post("/repartition/charges/nouvelle", data={
        **base, "nature": "payroll", "net_pay": "1 900,00", "social_account": "431000",
        "paid_on": "2026-01-30", "social_paid_on": "2026-02-15"})
    assert response.status_code == 302
    line = db.scalars(select(Cost).where(Cost.label == "Salaire janvier")).one()
    entries = db.scalars(select(JournalEntry).where(JournalEntry.source_id == line.id,
                                                    JournalEntry.source_type.like("cost%"))
                         .order_by(JournalEntry.id)).all()  # fmt: skip
    assert [(e.journal_code, [(x.account, x.debit, x.credit) for x in e.lines])
            for e in entries] == [
        ("PA", [("641100", D("2450.00"), D("0")), ("421000", D("0"), D("1900.00")),
                ("431000", D("0"), D("550.00"))]),
        ("BQ", [("421000", D("1900.00"), D("0")), ("512000", D("0"), D("1900.00"))]),
        ("BQ", [("431000", D("550.00"), D("0")), ("512000", D("0"), D("550.00"))]),
    ]  # fmt: skip
    client.post("/repartition/charges/nouvelle", data={
        **base, "account": "613200", "label": "Loyer", "party": "Commune de Trévoux",
        "nature": "supplier_invoice"})
    rent = db.scalars(select(Cost).where(Cost.label == "Loyer")).one()
    (entry,) = db.scalars(select(JournalEntry).where(JournalEntry.source_id == rent.id,
                                                     JournalEntry.source_type == "cost"))
    assert entry.journal_code == "HA" and entry.lines[1].account == "401COMMUNEDETREVOUX"


def test_an_imported_cost_edited_on_screen_keeps_its_journal(client, login_as, db, cluster):
    from accounting.costs import CostInput, CostKind, CostNature, add_cost
    from accounting.ledger.models import JournalEntry

    line = add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 15),
                                  D("-80.00"), "606400", "Avoir papier", nature=CostNature.FEC,
                                  journal_code="INV", counterpart="401F1"))  # fmt: skip
    db.commit()
    login_as(C)
    response = client.post(f"/repartition/charges/cost/{line.id}", data={
        "kind": "cost", "service_id": cluster["compta"].id, "day": "2026-01-16",
        "amount": "-80,00", "account": "606400", "label": "Avoir papier", "nature": "fec"})
    assert response.status_code == 302, page(response)
    db.refresh(line)
    assert (line.day, line.journal_code, line.counterpart) == (date(2026, 1, 16), "INV", "401F1")
    live = db.scalars(select(JournalEntry).where(JournalEntry.source_type == "cost",
                                                 JournalEntry.source_id == line.id)
                      .order_by(JournalEntry.id)).all()  # fmt: skip
    assert [e.journal_code for e in live] == ["INV", "INV", "INV"]  # posted, reversed, again
