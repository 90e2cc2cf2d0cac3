"""The week grid and the units entry through the Flask client (issue 17): rows kept as typed
on a refused save, rows added without saving and removed, the usual service preselected,
activities checked against their service, sent-back cells marked; units shown as saved and
changed rather than added twice; colleagues' entries read-only."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from accounting.org import Role
from timesheets import services
from timesheets.models import WorkEntry
from timesheets.services import EntryData
from timesheets.week import usual_service

MONDAY = date(2026, 3, 2)
PASSWORD = "motdepasse-de-test"


def _login(client, email):
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _rows(page):
    return re.findall(r'name="ligne" value="([^"]+)"', page)


def test_a_refused_save_shows_every_posted_row_in_order_with_its_values(client, cluster, db):
    _login(client, "compta@test.fr")
    a = f"{cluster.compta.id}:{cluster.a.id}:"
    b = f"{cluster.compta.id}:{cluster.b.id}:{cluster.payroll.id}"
    common = f"{cluster.compta.id}::"
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={
            "ligne": [b, common, a],
            f"c-{b}-0": "2",
            f"c-{common}-3": "1h15",
            f"c-{a}-1": "abc",
            "action": "enregistrer",
        },
    )
    assert response.status_code == 200
    page = _text(response)
    assert _rows(page) == [b, common, a]  # as posted, none lost (empty rows included)
    assert f'name="c-{b}-0" value="2"' in page and f'name="c-{common}-3" value="1h15"' in page
    assert "1 case refusée" in page and "Mardi : Durée illisible « abc »" in page
    assert db.scalar(select(func.count()).select_from(WorkEntry)) == 0


def test_adding_a_row_without_javascript_keeps_the_others_and_saves_nothing(client, cluster, db):
    _login(client, "compta@test.fr")
    a = f"{cluster.compta.id}:{cluster.a.id}:"
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={
            "ligne": a,
            f"c-{a}-0": "3",
            "action": "ajouter",
            "nouvelle-adherent": str(cluster.b.id),
            "nouvelle-service": cluster.compta.id,
            "nouvelle-activite": cluster.payroll.id,
        },
    )
    page = _text(response)
    assert _rows(page) == [a, f"{cluster.compta.id}:{cluster.b.id}:{cluster.payroll.id}"]
    assert f'name="c-{a}-0" value="3"' in page
    assert "Ligne ajoutée" in page
    assert db.scalar(select(func.count()).select_from(WorkEntry)) == 0
    # An activity of another service is refused when the row is added, in words.
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={
            "ligne": a,
            f"c-{a}-0": "3",
            "action": "ajouter",
            "nouvelle-service": cluster.compta.id,
            "nouvelle-activite": cluster.prospecting.id,
        },
    )
    page = _text(response)
    assert "L'activité « Prospection » n'est pas une activité du service" in page
    assert _rows(page) == [a] and f'name="c-{a}-0" value="3"' in page


def test_the_row_endpoint_answers_a_row_or_the_reason(client, cluster, db):
    _login(client, "compta@test.fr")
    response = client.get(
        f"/temps/semaine/ligne?jour={MONDAY}&nouvelle-service={cluster.dev.id}"
        f"&nouvelle-activite={cluster.prospecting.id}&nouvelle-adherent={cluster.a.id}"
    )
    assert response.status_code == 200
    assert f'data-row="{cluster.dev.id}:{cluster.a.id}:{cluster.prospecting.id}"' in _text(response)
    response = client.get(
        f"/temps/semaine/ligne?nouvelle-service={cluster.compta.id}"
        f"&nouvelle-activite={cluster.prospecting.id}"
    )
    assert response.status_code == 422
    assert "n'est pas une activité du service « Comptabilité / gestion »" in _text(response)


def test_a_removed_row_deletes_its_drafts_and_saving_keeps_empty_added_rows(client, cluster, db):
    _login(client, "compta@test.fr")
    a = f"{cluster.compta.id}:{cluster.a.id}:"
    b = f"{cluster.compta.id}:{cluster.b.id}:"
    services.create_entry(
        db, cluster.accountant, EntryData(MONDAY, cluster.compta.id, 60, cluster.a.id)
    )
    db.commit()
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={"ligne": [a, b], f"c-{a}-0": "1", "retirer-ligne": a},
    )
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(WorkEntry)) == 0
    page = _text(client.get(response.location))
    assert _rows(page) == [b]  # the empty row added before stays after the save


def test_the_usual_service_is_preselected_for_new_rows_and_quick_entry(
    client, cluster, db, make_user
):
    services.create_entry(db, cluster.developer, EntryData(MONDAY, cluster.dev.id, 60, None))
    services.create_entry(db, cluster.accountant, EntryData(MONDAY, cluster.compta.id, 60, None))
    db.commit()
    _login(client, "dev@test.fr")
    page = _text(client.get(f"/temps/semaine?jour={MONDAY}"))
    assert f'<option value="{cluster.dev.id}" selected>' in page
    page = _text(client.get("/temps/saisies/nouvelle"))
    assert f'<option value="{cluster.dev.id}" selected>' in page
    # A newcomer who never logged work gets the service of the colleagues with their role.
    make_user(Role.DEVELOPER, email="nouveau@test.fr")
    db.commit()
    client.post("/logout")
    _login(client, "nouveau@test.fr")
    page = _text(client.get(f"/temps/semaine?jour={MONDAY}"))
    assert f'<option value="{cluster.dev.id}" selected>' in page


def test_a_newcomers_usual_service_is_the_latest_of_the_colleagues_with_their_roles(
    cluster, db, make_service, make_user
):
    """Worked out by hand: among the accountants, the latest entry in an active service is
    the one of Wednesday in PAIE (the Thursday one is in a service since deactivated, the
    developer's Friday one is another role's); a tie on the day goes to the later entry."""
    payroll = make_service("PAIE", name="Paie")
    old = make_service("ANCIEN", name="Ancien service")
    first, second = make_user(Role.ACCOUNTANT), make_user(Role.ACCOUNTANT)
    newcomer = make_user(Role.ACCOUNTANT)

    def log(user, day, service):
        services.create_entry(
            db, user, EntryData(MONDAY + timedelta(days=day), service.id, 60, None)
        )

    log(cluster.accountant, 0, cluster.compta)
    log(first, 1, cluster.compta)
    log(second, 2, payroll)
    log(first, 3, old)
    log(cluster.developer, 4, cluster.dev)
    old.active = False
    db.flush()
    assert usual_service(db, newcomer.id) == payroll.id
    log(first, 2, cluster.compta)  # same day as PAIE, logged after it
    assert usual_service(db, newcomer.id) == cluster.compta.id
    assert usual_service(db, first.id) == cluster.compta.id  # their own latest active one
    # The administrator is alone with that role and never logged work: no usual service.
    assert usual_service(db, cluster.admin.id) is None


def test_a_sent_back_cell_shows_the_reviewers_comment_in_words(client, cluster, db):
    entry = services.create_entry(
        db,
        cluster.accountant,
        EntryData(MONDAY + timedelta(days=2), cluster.compta.id, 90, cluster.a.id),
    ).entries[0]
    services.submit_week(db, cluster.accountant, MONDAY)
    services.send_back(db, cluster.admin, [entry.id], "Mauvais adhérent")
    db.commit()
    _login(client, "compta@test.fr")
    page = _text(client.get(f"/temps/semaine?jour={MONDAY}"))
    assert 'title="Renvoyée : Mauvais adhérent"' in page
    assert "Renvoyée par la validation (mercredi 04/03/2026) : « Mauvais adhérent »" in page


def test_saved_units_show_as_saved_and_saving_again_adds_nothing(client, cluster, db):
    _login(client, "compta@test.fr")
    url = f"/temps/unites?service={cluster.compta.id}&jour=2026-03-04"
    a_booked = f"q-{cluster.a.id}-{cluster.entry_booked.id}"
    b_booked = f"q-{cluster.b.id}-{cluster.entry_booked.id}"
    a_slips = f"q-{cluster.a.id}-{cluster.payslip.id}"
    response = client.post(
        url, data={a_booked: "12", b_booked: "3,5", a_slips: "4"}, follow_redirects=True
    )
    page = _text(response)
    assert "3 quantités enregistrées." in page
    assert f'name="{a_booked}" value="12"' in page and f'name="{b_booked}" value="3,5"' in page
    assert ">15,50</output>" in page and ">4,00</output>" in page  # totals per unit type
    # The same grid posted again stores nothing twice; a change updates, an empty cell deletes.
    page = _text(
        client.post(
            url, data={a_booked: "12", b_booked: "3.5", a_slips: "4"}, follow_redirects=True
        )
    )
    assert "Aucune quantité modifiée." in page
    page = _text(
        client.post(url, data={a_booked: "10", b_booked: "", a_slips: "4"}, follow_redirects=True)
    )
    assert "2 quantités enregistrées." in page
    assert sorted(db.scalars(select(WorkEntry.quantity))) == [Decimal("4"), Decimal("10")]


def test_a_colleagues_entry_opens_read_only_and_its_change_is_refused(client, cluster, db):
    entry = services.create_entry(
        db, cluster.developer, EntryData(MONDAY, cluster.dev.id, 60, cluster.a.id)
    ).entries[0]
    db.commit()
    _login(client, "compta@test.fr")
    listing = _text(client.get("/temps/saisies?du=2026-03-01&au=2026-03-31"))
    assert f'/temps/saisies/{entry.id}">Voir</a>' in listing and "Modifier" not in listing
    page = _text(client.get(f"/temps/saisies/{entry.id}"))
    assert "Voir une saisie" in page and "en lecture seule" in page
    assert '<fieldset class="plain" disabled>' in page
    assert ">Enregistrer</button>" not in page and ">Supprimer</button>" not in page
    response = client.post(
        f"/temps/saisies/{entry.id}",
        data={
            "jour": "2026-03-02",
            "service": cluster.dev.id,
            "adherent": cluster.a.id,
            "duree": "5",
        },
        follow_redirects=True,
    )
    assert "Vous ne pouvez modifier que vos propres saisies." in _text(response)
    db.refresh(entry)
    assert entry.minutes == 60


def test_submitting_saves_the_grid_first_and_a_bad_cell_submits_nothing(client, cluster, db):
    _login(client, "compta@test.fr")
    a = f"{cluster.compta.id}:{cluster.a.id}:"
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={"ligne": a, f"c-{a}-0": "2", f"c-{a}-1": "2x", "action": "soumettre"},
    )
    page = _text(response)
    assert response.status_code == 200 and "Durée illisible « 2x »" in page
    assert f'name="c-{a}-0" value="2"' in page
    assert db.scalar(select(func.count()).select_from(WorkEntry)) == 0
    response = client.post(
        f"/temps/semaine?jour={MONDAY}",
        data={"ligne": a, f"c-{a}-0": "2", f"c-{a}-1": "1h", "action": "soumettre"},
        follow_redirects=True,
    )
    assert "2 saisies soumises pour validation." in _text(response)
    assert sorted(db.scalars(select(WorkEntry.status))) == ["submitted", "submitted"]
