"""The timesheet screens through the Flask client: each page renders, each form does what it
says, refusals are French messages (never a 500), and the member scope holds."""

from __future__ import annotations

import io
import os
import re
import time
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from timesheets import services
from timesheets.models import EntryStatus, UnitType, WorkEntry
from timesheets.services import EntryData

MONDAY = date(2026, 3, 2)
HEADER = "Date;Intervenant;Adhérent;Service;Durée\r\n".encode()


def _count(db):
    return db.scalar(select(func.count()).select_from(WorkEntry))


def _text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def accountant(client, cluster, db):
    response = client.post(
        "/login", data={"email": "compta@test.fr", "password": "motdepasse-de-test"}
    )
    assert response.status_code == 302
    return cluster.accountant


def _login(client, email):
    response = client.post("/login", data={"email": email, "password": "motdepasse-de-test"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/temps/semaine",
        "/temps/saisies",
        "/temps/saisies/nouvelle",
        "/temps/unites",
        "/temps/synthese",
        "/temps/import",
    ],
)
def test_each_page_renders_for_an_accountant(client, accountant, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert "<h1>" in _text(response)


def test_the_weekly_grid_saves_every_duration_format_and_shows_totals(
    client, accountant, cluster, db
):
    key = f"{cluster.compta.id}:{cluster.a.id}:{cluster.bookkeeping.id}"
    form = {
        "ligne": key,
        f"c-{key}-0": "1,5",
        f"c-{key}-1": "1.5",
        f"c-{key}-2": "1h30",
        f"c-{key}-3": "1:30",
        f"c-{key}-4": "90m",
    }
    response = client.post(f"/temps/semaine?jour={MONDAY}", data=form)
    assert response.status_code == 302
    assert db.execute(select(WorkEntry.day, WorkEntry.minutes).order_by(WorkEntry.day)).all() == [
        (MONDAY + timedelta(days=n), 90) for n in range(5)
    ]
    page = _text(client.get(f"/temps/semaine?jour={MONDAY}"))
    assert "7 h 30" in page  # week total
    # Emptying a cell deletes its entry; changing one updates it.
    form[f"c-{key}-0"] = ""
    form[f"c-{key}-1"] = "2"
    client.post(f"/temps/semaine?jour={MONDAY}", data=form)
    assert [m for (m,) in db.execute(select(WorkEntry.minutes).order_by(WorkEntry.day))] == [
        120,
        90,
        90,
        90,
    ]


def test_a_bad_cell_refuses_the_whole_grid_with_the_cell_marked(client, accountant, cluster, db):
    key = f"{cluster.compta.id}:{cluster.a.id}:"
    response = client.post(
        f"/temps/semaine?jour={MONDAY}", data={"ligne": key, f"c-{key}-0": "2", f"c-{key}-1": "abc"}
    )
    assert response.status_code == 200
    page = _text(response)
    assert "Durée illisible « abc »" in page
    assert 'aria-invalid="true"' in page
    assert _count(db) == 0


def test_a_grid_day_over_24_hours_is_refused(client, accountant, cluster, db):
    a = f"{cluster.compta.id}:{cluster.a.id}:"
    b = f"{cluster.compta.id}:{cluster.b.id}:"
    response = client.post(
        f"/temps/semaine?jour={MONDAY}", data={"ligne": [a, b], f"c-{a}-0": "20", f"c-{b}-0": "5"}
    )
    assert "Plus de 24 h saisies le 02/03/2026" in _text(response)
    assert _count(db) == 0


def test_copy_last_week_adds_its_rows(client, accountant, cluster, db):
    services.create_entry(
        db,
        cluster.accountant,
        EntryData(MONDAY - timedelta(days=7), cluster.compta.id, 60, cluster.b.id),
    )
    page = _text(client.get(f"/temps/semaine?jour={MONDAY}&copier=1"))
    assert "1 ligne de la semaine précédente ajoutée" in page
    assert f'value="{cluster.compta.id}:{cluster.b.id}:"' in page


def test_submit_the_week(client, accountant, cluster, db):
    entry = services.create_entry(
        db, cluster.accountant, EntryData(MONDAY, cluster.compta.id, 60, cluster.a.id)
    ).entries[0]
    client.post(f"/temps/semaine?jour={MONDAY}", data={"action": "soumettre"})
    db.refresh(entry)
    assert entry.status == EntryStatus.SUBMITTED


def test_quick_add_and_split_by_percent(client, accountant, cluster, db):
    response = client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "2026-03-05",
            "service": cluster.compta.id,
            "adherent": cluster.a.id,
            "duree": "1h",
            "commentaire": "rapide",
        },
    )
    assert response.status_code == 302
    client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "05/03/2026",
            "service": cluster.compta.id,
            "adherent": "",
            "duree": "2",
            "repartition": "percent",
            f"part-{cluster.a.id}": "25",
            f"part-{cluster.b.id}": "75 %",
        },
    )
    assert db.execute(
        select(WorkEntry.member_id, WorkEntry.minutes).order_by(WorkEntry.id)
    ).all() == [(cluster.a.id, 60), (cluster.a.id, 30), (cluster.b.id, 90)]


@pytest.mark.parametrize(
    ("duree", "message"),
    [
        ("abc", "Durée illisible"),
        ("0", "supérieure à zéro"),
        ("1e9", "Durée illisible"),
        ("--", "Durée illisible"),
        ("25", "plus de 24h"),
    ],
)
def test_quick_add_refuses_bad_durations_without_a_500(
    client, accountant, cluster, db, duree, message
):
    response = client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "2026-03-05",
            "service": cluster.compta.id,
            "adherent": cluster.a.id,
            "duree": duree,
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message in _text(response)
    assert _count(db) == 0


def test_the_list_filters_and_exports(client, accountant, cluster, db):
    services.create_entry(
        db,
        cluster.accountant,
        EntryData(date(2026, 3, 5), cluster.compta.id, 90, cluster.a.id, note="x"),
    )
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 6), cluster.compta.id, 30, None)
    )
    page = _text(client.get("/temps/saisies?du=2026-03-01&au=2026-03-31&adherent=common"))
    assert "Total (1 saisies)" in page and "0 h 30" in page
    response = client.get("/temps/saisies/export.xlsx?du=2026-03-01&au=2026-03-31")
    assert response.status_code == 200
    data = response.data
    response.close()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.max_row == 4  # header, two entries, totals
    response = client.get("/temps/saisies/export.csv?du=2026-03-01&au=2026-03-31")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.data.count(b"\r\n") == 3


def test_import_upload_preview_confirm_then_again(client, accountant, cluster, db):
    data = HEADER + b"05/03/2026;compta@test.fr;A;COMPTA;1h30\r\n"
    response = client.post(
        "/temps/import",
        data={"document": (io.BytesIO(data), "t.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    token = re.search(r"fichier=([0-9a-f]{64})", response.location)[1]
    preview = _text(client.get(response.location))
    assert "1 saisie sera ajoutée." in preview
    assert _count(db) == 0
    response = client.post(
        "/temps/import/confirmer", data={"fichier": token}, follow_redirects=True
    )
    assert "1 saisie ajoutée." in _text(response)
    assert _count(db) == 1
    response = client.post(
        "/temps/import",
        data={"document": (io.BytesIO(data), "t.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Ce fichier a déjà été importé" in _text(response)


def test_an_import_with_errors_shows_each_line_and_column(client, accountant, cluster, db):
    data = HEADER + b"05/03/2026;compta@test.fr;ZZ;COMPTA;abc\r\n"
    response = client.post(
        "/temps/import",
        data={"document": (io.BytesIO(data), "t.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = _text(response)
    assert "Adhérent inconnu « ZZ »" in page and "Durée illisible « abc »" in page
    assert "Importer 0" not in page and _count(db) == 0


def test_a_fake_xlsx_upload_is_a_message_not_a_500(client, accountant):
    response = client.post(
        "/temps/import",
        data={"document": (io.BytesIO(b"nope"), "t.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "pas un vrai fichier Excel (.xlsx)" in _text(response)


def test_templates_download(client, accountant):
    assert client.get("/temps/import/modele.csv").data.startswith(b"\xef\xbb\xbfDate;Intervenant")
    assert client.get("/temps/import/modele.xlsx").data.startswith(b"PK")


def test_the_treasurer_approves_and_sends_back(client, cluster, db):
    entry = services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, cluster.a.id)
    ).entries[0]
    entry.status = EntryStatus.SUBMITTED
    db.flush()
    _login(client, "tresorier@test.fr")
    page = _text(client.get("/temps/validation?mois=2026-03"))
    assert "Valider la sélection" in page
    response = client.post(
        "/temps/validation",
        data={"mois": "2026-03", "action": "valider", "saisie": entry.id},
        follow_redirects=True,
    )
    assert "1 saisie validée." in _text(response)
    db.refresh(entry)
    assert entry.status == EntryStatus.APPROVED
    response = client.post(
        "/temps/validation",
        data={"mois": "2026-03", "action": "renvoyer", "saisie": entry.id, "commentaire": ""},
        follow_redirects=True,
    )
    assert "Indiquez un commentaire" in _text(response)
    client.post(
        "/temps/validation",
        data={
            "mois": "2026-03",
            "action": "renvoyer",
            "saisie": entry.id,
            "commentaire": "Adhérent ?",
        },
    )
    db.refresh(entry)
    assert (entry.status, entry.review_comment) == (EntryStatus.DRAFT, "Adhérent ?")


def test_staff_cannot_open_the_approval_screen(client, accountant):
    assert client.get("/temps/validation").status_code == 403


def test_a_member_accountant_sees_only_their_member(client, cluster, db):
    other = services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, cluster.b.id)
    ).entries[0]
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 45, cluster.a.id)
    )
    _login(client, "ca@test.fr")
    assert client.get(f"/temps/saisies/{other.id}").status_code == 404
    page = _text(client.get("/temps/saisies?du=2026-03-01&au=2026-03-31"))
    assert "Total (1 saisies)" in page
    csv_data = client.get("/temps/saisies/export.csv?du=2026-03-01&au=2026-03-31").data.decode(
        "utf-8-sig"
    )
    assert "Bêta" not in csv_data and "Alpha" in csv_data
    summary = client.get("/temps/synthese.csv?du=2026-03-01&au=2026-03-31").data.decode("utf-8-sig")
    assert "Bêta" not in summary
    response = client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "2026-03-05",
            "service": cluster.compta.id,
            "adherent": cluster.b.id,
            "duree": "1",
        },
        follow_redirects=True,
    )
    assert "votre adhérent" in _text(response)


def test_the_summary_page_and_downloads(client, accountant, cluster, db):
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, None)
    )
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 180, cluster.a.id)
    )
    page = _text(client.get("/temps/synthese?du=2026-03-01&au=2026-03-31"))
    assert "25,00 %" in page
    assert client.get("/temps/synthese.xlsx?du=2026-03-01&au=2026-03-31").data.startswith(b"PK")


def test_the_summary_page_shows_its_rows_page_by_page_with_the_totals_of_all(
    client, accountant, cluster, db, monkeypatch
):
    from app.timesheets import routes

    monkeypatch.setattr(routes, "SUMMARY_PAGE_SIZE", 1)
    for member, minutes in ((cluster.a, 60), (cluster.b, 30)):
        services.create_entry(
            db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, minutes,
                                              member.id)
        )
    # Rows sort by member code: A on page 1, B on page 2; the total is 1 h 30 on both.
    first = _text(client.get("/temps/synthese?du=2026-03-01&au=2026-03-31"))
    second = _text(client.get("/temps/synthese?du=2026-03-01&au=2026-03-31&page=2"))
    assert "A — Alpha" in first and "Bêta" not in first and "Page 1 sur 2" in first
    assert "B — Bêta" in second and "Alpha" not in second and "Page 2 sur 2" in second
    total = re.compile(r'Total</th>\s*<td class="num" data-value="1\.5000">')
    assert total.search(first) and total.search(second), first
    beyond = _text(client.get("/temps/synthese?du=2026-03-01&au=2026-03-31&page=9"))
    assert "B — Bêta" in beyond and "Page 2 sur 2" in beyond  # the last page


def test_the_admin_edits_activities_and_unit_types(client, cluster, db):
    _login(client, "admin@test.fr")
    assert "Tenue comptable" in _text(client.get("/temps/services"))
    client.post(
        f"/temps/services/{cluster.compta.id}",
        data={"quoi": "unite", "nom": "Déclaration de TVA", "poids": "10", "actif": "1"},
    )
    assert db.scalar(select(UnitType.weight).where(UnitType.name == "Déclaration de TVA")) == 10
    response = client.post(
        f"/temps/services/{cluster.compta.id}",
        data={"quoi": "unite", "nom": "Paie2", "poids": "-1", "actif": "1"},
        follow_redirects=True,
    )
    assert "positif" in _text(response)
    response = client.post(
        f"/temps/services/{cluster.compta.id}",
        data={"quoi": "activite", "nom": "paie", "actif": "1"},
        follow_redirects=True,
    )
    assert "existe déjà" in _text(response)


def test_only_the_admin_edits_activities(client, accountant, cluster):
    assert client.get("/temps/services").status_code == 403
    assert (
        client.post(
            f"/temps/services/{cluster.compta.id}", data={"quoi": "activite", "nom": "x"}
        ).status_code
        == 403
    )


# ---------------------------------------------------------------- many members: text inputs


@pytest.fixture
def many_members(monkeypatch):
    """Pages behave as with a large cluster: members above the select limit."""
    monkeypatch.setattr("app.timesheets.routes.MEMBER_SELECT_LIMIT", 2)


def test_with_many_members_the_list_offers_a_text_input_not_a_select(
    client, accountant, cluster, db, many_members
):
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 90, cluster.a.id)
    )
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 6), cluster.compta.id, 30, cluster.b.id)
    )
    page = _text(client.get("/temps/saisies?du=2026-03-01&au=2026-03-31&adherent=B+—+Bêta"))
    assert 'name="adherent" value="B — Bêta" list="filtre-adherent-choix"' in page
    assert ">A — Alpha</option>" not in page
    assert "timesheets.js" in page
    assert "Total (1 saisies)" in page
    # A code alone, in any case, and a link with the id (pagination, exports) read the same.
    assert "Total (1 saisies)" in _text(client.get("/temps/saisies?du=2026-03-01&adherent=b"))
    page = _text(client.get(f"/temps/saisies?du=2026-03-01&adherent={cluster.b.id}"))
    assert 'value="B — Bêta"' in page


def test_an_unknown_member_typed_in_the_filter_is_said_not_ignored_silently(
    client, accountant, cluster, many_members
):
    page = _text(client.get("/temps/saisies?adherent=ZZ", follow_redirects=True))
    assert "Adhérent inconnu « ZZ »" in page


def test_with_many_members_quick_add_and_split_read_the_typed_members(
    client, accountant, cluster, db, many_members
):
    page = _text(client.get("/temps/saisies/nouvelle"))
    assert 'name="part-adherent-1"' in page and f'name="part-{cluster.a.id}"' not in page
    client.post(
        "/temps/saisies/nouvelle",
        data={"jour": "2026-03-05", "service": cluster.compta.id, "adherent": "a", "duree": "1h"},
    )
    client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "2026-03-05",
            "service": cluster.compta.id,
            "adherent": "Travail commun",
            "duree": "2",
            "repartition": "minutes",
            "part-adherent-1": "A — Alpha",
            "part-valeur-1": "0:30",
            "part-adherent-2": "B",
            "part-valeur-2": "1h30",
        },
    )
    assert db.execute(
        select(WorkEntry.member_id, WorkEntry.minutes).order_by(WorkEntry.id)
    ).all() == [(cluster.a.id, 60), (cluster.a.id, 30), (cluster.b.id, 90)]


def test_a_split_share_without_its_member_is_refused(client, accountant, cluster, db, many_members):
    response = client.post(
        "/temps/saisies/nouvelle",
        data={
            "jour": "2026-03-05",
            "service": cluster.compta.id,
            "duree": "2",
            "repartition": "percent",
            "part-valeur-1": "100",
        },
        follow_redirects=True,
    )
    assert "adhérent de chaque part de la répartition" in _text(response)
    assert _count(db) == 0


def test_with_many_members_the_week_adds_a_row_for_a_typed_member(
    client, accountant, cluster, db, many_members
):
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={
            "action": "ajouter",
            "nouvelle-adherent": "B — Bêta",
            "nouvelle-service": cluster.compta.id,
        },
        follow_redirects=True,
    )
    page = _text(response)
    assert "Ligne ajoutée" in page
    assert f'name="ligne" value="{cluster.compta.id}:{cluster.b.id}:"' in page
    assert "B — Bêta" in page
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={
            "action": "ajouter",
            "nouvelle-adherent": "Inconnu",
            "nouvelle-service": cluster.compta.id,
        },
        follow_redirects=True,
    )
    assert "Adhérent inconnu « Inconnu »" in _text(response)


def test_member_suggestions_are_the_users_scope(client, cluster, db):
    _login(client, "admin@test.fr")
    response = client.get("/temps/adherents.json")
    assert response.get_json() == {"options": ["A — Alpha", "B — Bêta", "L — Partie"]}
    client.post("/logout")
    _login(client, "ca@test.fr")
    assert client.get("/temps/adherents.json").get_json() == {"options": ["A — Alpha"]}


def test_a_new_upload_removes_the_uploads_abandoned_for_more_than_a_day(
    app, client, accountant, cluster, monkeypatch, tmp_path
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    folder = tmp_path / "imports"
    folder.mkdir()
    uid = cluster.accountant.id
    abandoned = folder / f"timesheets-{uid}-{'a' * 64}"
    recent = folder / f"timesheets-{uid}-{'b' * 64}"
    other_kind = folder / f"payments-{uid}-{'c' * 64}"
    two_days_ago = time.time() - 2 * 86400
    for path in (abandoned, recent, other_kind):
        path.write_bytes(b"x")
        path.with_suffix(".name").write_text("x.csv", encoding="utf-8")
    for path in (abandoned, abandoned.with_suffix(".name"), other_kind):
        os.utime(path, (two_days_ago, two_days_ago))
    response = client.post(
        "/temps/import",
        data={
            "document": (io.BytesIO(HEADER + b"05/03/2026;compta@test.fr;A;COMPTA;1\r\n"), "t.csv")
        },
        content_type="multipart/form-data",
    )
    token = re.search(r"fichier=([0-9a-f]{64})", response.location)[1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            f"payments-{uid}-{'c' * 64}",
            f"payments-{uid}-{'c' * 64}.name",
            f"timesheets-{uid}-{'b' * 64}",
            f"timesheets-{uid}-{'b' * 64}.name",
            f"timesheets-{uid}-{token}",
            f"timesheets-{uid}-{token}.name",
        ]
    )
    client.post("/temps/import/confirmer", data={"fichier": token})
    assert not (folder / f"timesheets-{uid}-{token}").exists()


def test_a_week_with_common_work_and_member_work_on_one_service_renders_common_first(
    client, accountant, cluster, db
):
    for member in (cluster.b.id, None, cluster.a.id):
        services.create_entry(
            db, cluster.accountant, EntryData(MONDAY, cluster.compta.id, 60, member)
        )
    response = client.get(f"/temps/semaine?jour={MONDAY}")
    assert response.status_code == 200
    rows = re.findall(r'name="ligne" value="([^"]+)"', _text(response))
    compta = cluster.compta.id
    assert rows == [f"{compta}::", f"{compta}:{cluster.a.id}:", f"{compta}:{cluster.b.id}:"]


def test_an_empty_month_offers_the_month_of_the_latest_entry(client, accountant, cluster, db):
    services.create_entry(
        db, cluster.accountant, EntryData(date(2025, 12, 18), cluster.compta.id, 60, cluster.a.id)
    )
    page = _text(client.get("/temps/saisies?du=2026-03-01&au=2026-03-31"))
    assert "La plus récente date du 18/12/2025" in page
    assert "du=2025-12-01&amp;au=2025-12-31" in page
    # The period shortcuts go from the month shown.
    assert "du=2026-02-01&amp;au=2026-02-28" in page and "du=2026-04-01&amp;au=2026-04-30" in page
    client.post("/logout")
    _login(client, "admin@test.fr")
    page = _text(client.get("/temps/validation?mois=2026-03&statut=draft"))
    assert "aller à décembre 2025" in page
    page = _text(client.get("/temps/synthese?du=2026-01-01&au=2026-03-31"))
    assert "du=2025-01-01&amp;au=2025-12-31" in page
