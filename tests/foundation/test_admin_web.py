"""The admin screens as a user drives them: forms with inline French errors, every change in the
audit log (who, before, after), member scope on the figures, CSRF refusal, imports and the
configuration file through the browser's door, and no 500 on odd input."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.org import Carrier, Member, MemberFigures, Role, Service, User
from app.demo.synthetic import fake_siret
from tests.conftest import TEST_PASSWORD

SIRET = fake_siret(301)
MEMBER_FORM = {
    "code": "scop",
    "name": "La Scop du Val",
    "legal_form": "SCOP",
    "siret": SIRET,
    "vat_number": "",
    "address": "1 rue du Port\n01600 Trévoux",
    "billing_email": "compta@scop.example",
    "joined_on": "2025-01-01",
    "left_on": "",
}


def _text(response) -> str:
    return response.get_data(as_text=True)


def _events(db: Session, object_type: str, action: str) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def admin(login_as) -> User:
    return login_as(Role.ADMIN)


# ------------------------------------------------------------------------------ members


def test_admin_creates_a_member_and_the_audit_log_names_them(client, db, admin) -> None:
    response = client.post("/admin/adherents/nouveau", data=MEMBER_FORM)
    assert response.status_code == 302
    member = db.scalars(select(Member).where(Member.code == "SCOP")).one()
    assert member.siret == SIRET
    # One text with « 01600 Trévoux » at the end is stored structured (Factur-X wants it so).
    assert (member.address, member.postcode, member.city, member.country_code) == (
        "1 rue du Port", "01600", "Trévoux", "FR")
    assert member.joined_on == date(2025, 1, 1)
    (event,) = _events(db, "members", "create")
    assert (event.actor_id, event.actor_label) == (admin.id, admin.email)
    assert event.after["code"] == "SCOP"
    assert event.after["siret"] == SIRET


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"siret": "12345678901234"}, "siret", "SIRET invalide"),
        ({"name": "  "}, "name", "Nom manquant."),
        ({"name": "La\x00Scop"}, "name", "Texte refusé : il contient un caractère nul."),
        ({"joined_on": "30/02/2025"}, "joined_on", "Date inexistante"),
        ({"left_on": "2024-12-31"}, "left_on", "La date de sortie précède la date d&#39;adhésion."),
        ({"billing_email": "compta@"}, "billing_email", "Adresse e-mail invalide"),
        ({"code": "trop long pour un code"}, "code", "Code « TROP LONG POUR UN CODE » invalide"),
        (
            {"vat_number": "FR00000000000"},
            "vat_number",
            "Numéro de TVA intracommunautaire invalide",
        ),
    ],
)
def test_a_bad_member_form_shows_the_error_beside_the_field_and_saves_nothing(
    client, db, admin, changes, field, message
) -> None:
    response = client.post("/admin/adherents/nouveau", data={**MEMBER_FORM, **changes})
    assert response.status_code == 200
    page = _text(response)
    assert "Le formulaire contient des erreurs" in page
    error = re.search(rf'<p class="error" id="{field}-err">([^<]+)</p>', page)
    assert error, page[:2000]
    assert message in error[1]
    assert _count(db, Member) == 0


def test_a_code_or_siret_already_used_is_refused_on_its_field(client, db, admin, make_member):
    make_member("SCOP")
    page = _text(client.post("/admin/adherents/nouveau", data=MEMBER_FORM))
    assert "Le code « SCOP » est déjà utilisé par un autre adhérent." in page
    make_member("AUTRE", siret=fake_siret(302))
    page = _text(
        client.post(
            "/admin/adherents/nouveau",
            data={**MEMBER_FORM, "code": "NEW", "siret": fake_siret(302)},
        )
    )
    assert "Ce SIRET est déjà celui de l&#39;adhérent AUTRE." in page
    assert _count(db, Member) == 2


def test_admin_sets_a_leave_date_and_the_code_never_changes(client, db, admin, make_member):
    member = make_member("SCOP", name="La Scop", joined_on=date(2024, 1, 1))
    data = {**MEMBER_FORM, "code": "AUTRECODE", "name": "La Scop", "siret": "",
            "address": "", "billing_email": "", "legal_form": "",
            "joined_on": "2024-01-01", "left_on": "30/06/2025"}  # fmt: skip
    response = client.post(f"/admin/adherents/{member.id}", data=data)
    assert response.status_code == 302
    db.refresh(member)
    assert (member.code, member.left_on) == ("SCOP", date(2025, 6, 30))
    (event,) = _events(db, "members", "update")
    assert (event.before, event.after) == ({"left_on": None}, {"left_on": "2025-06-30"})
    again = client.post(f"/admin/adherents/{member.id}", data=data, follow_redirects=True)
    assert "Aucune modification" in _text(again)
    assert len(_events(db, "members", "update")) == 1


def test_a_member_with_records_is_never_deleted(client, db, admin, make_member) -> None:
    member = make_member("SCOP")
    db.add(MemberFigures(member_id=member.id, year=2025, revenue=Decimal("1000.00")))
    db.flush()
    response = client.post(f"/admin/adherents/{member.id}/supprimer", follow_redirects=True)
    assert "a des enregistrements (chiffres annuels)" in _text(response)
    assert "Renseignez sa date de sortie" in _text(response)
    assert db.get(Member, member.id) is not None
    assert _events(db, "members", "delete") == []


def test_a_member_entered_by_mistake_can_be_deleted_and_it_is_audited(
    client, db, admin, make_member
):
    member = make_member("ERREUR")
    member_id = member.id
    response = client.post(f"/admin/adherents/{member_id}/supprimer")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Member, member_id) is None
    (event,) = _events(db, "members", "delete")
    assert event.before["code"] == "ERREUR"


def test_the_members_list_searches_and_filters_who_has_left(client, admin, make_member) -> None:
    make_member("PRESENT", name="Toujours là")
    make_member("PARTI", name="Déjà parti", joined_on=date(2020, 1, 1), left_on=date(2021, 1, 1))
    current = _text(client.get("/admin/adherents"))
    assert "PRESENT" in current and "PARTI" not in current
    left = _text(client.get("/admin/adherents?statut=sortis"))
    assert "PARTI" in left and "PRESENT" not in left
    found = _text(client.get("/admin/adherents?statut=tous&q=toujours"))
    assert "PRESENT" in found and "PARTI" not in found
    # The same search with other words (the list's statement is built once per shape).
    other = _text(client.get("/admin/adherents?statut=tous&q=d%C3%A9j%C3%A0"))
    assert "PARTI" in other and "PRESENT" not in other


# ------------------------------------------------------------------------------ figures

FIGURES = {"year": "2025", "revenue": "170 000,50", "headcount": "6,5", "insertion_workers": "",
           "volunteers": "7"}  # fmt: skip


def test_admin_enters_a_year_of_figures_and_a_blank_stays_missing(client, db, admin, make_member):
    member = make_member("AIDVS")
    response = client.post(f"/admin/adherents/{member.id}/chiffres", data=FIGURES)
    assert response.status_code == 302
    figures = db.scalars(select(MemberFigures)).one()
    assert figures.revenue == Decimal("170000.50")
    assert figures.headcount == Decimal("6.500")
    assert figures.insertion_workers is None
    assert figures.volunteers == 7
    (event,) = _events(db, "member_figures", "create")
    assert event.after["revenue"] == "170000.50"
    page = _text(client.get("/admin/chiffres?annee=2025"))
    assert "AIDVS" in page and "manquant" in page


def test_the_figures_page_shows_each_active_members_figures_and_links_them_for_the_admin(
    app, client, db, login_as, make_user, make_member
):
    """Three members: one with its 2025 figures but no insertion workers, one with none, one
    gone before 2025 (not listed). The administrator's rows link to the member's figures of
    the year shown; the treasurer reads the same rows without the links."""
    entered = make_member("AIDVS")
    make_member("BETA")
    make_member("GONE", left_on=date(2024, 6, 30))
    db.add(MemberFigures(member_id=entered.id, year=2025, revenue=Decimal("170000.50"),
                         headcount=Decimal("6.5"), volunteers=7))
    db.commit()
    login_as(Role.ADMIN)
    page = _text(client.get("/admin/chiffres?annee=2025"))
    rows = re.findall(r"<tr>(.*?)</tr>", page[page.index("<tbody>"):], re.S)
    assert len(rows) == 2 and "GONE" not in page
    assert f'href="/admin/adherents/{entered.id}/chiffres?annee=2025#saisie">AIDVS</a>' in rows[0]
    cells = re.findall(r'<td class="num">(.*?)</td>', rows[0])
    assert cells == ["170\u202f000,50\xa0€", "6,5", '<span class="badge warn">manquant</span>',
                     "7"]
    assert rows[1].count("manquant") == 4
    assert "2 adhérents avec au moins un chiffre manquant" in page

    treasurer, reader = make_user(Role.TREASURER), app.test_client()
    reader.post("/login", data={"email": treasurer.email, "password": TEST_PASSWORD})
    page = _text(reader.get("/admin/chiffres?annee=2025"))
    assert "/chiffres?annee=2025#saisie" not in page
    assert re.search(r"<td>AIDVS <span class=\"muted\">", page)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"revenue": "-5"}, "revenue", "Nombre négatif refusé"),
        ({"revenue": "12,345"}, "revenue", "Trop de décimales"),
        ({"volunteers": "2,5"}, "volunteers", "Nombre entier attendu"),
        ({"year": "99"}, "year", "Nombre trop petit"),
        ({"headcount": "beaucoup"}, "headcount", "Nombre illisible"),
    ],
)
def test_bad_figures_are_refused_beside_their_field(
    client, db, admin, make_member, changes, field, message
) -> None:
    member = make_member("AIDVS")
    page = _text(client.post(f"/admin/adherents/{member.id}/chiffres", data={**FIGURES, **changes}))
    error = re.search(rf'<p class="error" id="{field}-err">([^<]+)</p>', page)
    assert error and message in error[1]
    assert _count(db, MemberFigures) == 0


def test_a_member_accountant_enters_their_own_figures_not_another_members(
    client, db, login_as, make_member
) -> None:
    own, other = make_member("OWN"), make_member("OTHER")
    user = login_as(Role.MEMBER_ACCOUNTANT, member=own)
    assert (
        client.get("/admin/mes-chiffres")
        .headers["Location"]
        .endswith(f"/admin/adherents/{own.id}/chiffres")
    )
    assert client.post(f"/admin/adherents/{own.id}/chiffres", data=FIGURES).status_code == 302
    assert client.get(f"/admin/adherents/{other.id}/chiffres").status_code == 404
    assert client.post(f"/admin/adherents/{other.id}/chiffres", data=FIGURES).status_code == 404
    assert client.get("/admin/chiffres").status_code == 403
    assert [f.member_id for f in db.scalars(select(MemberFigures))] == [own.id]
    (event,) = _events(db, "member_figures", "create")
    assert event.actor_label == user.email


# ------------------------------------------------------------------------------ carrier

CARRIER = {
    "code": "porteur", "name": "Association Porteuse", "address": "1 place du Pôle",
    "siren": fake_siret(300)[:9], "siret": fake_siret(300), "vat_number": "", "iban": "",
    "bic": "", "email": "compta@porteur.example", "vat_regime": "exempt_261b",
    "vat_exemption_mention": "Exonération de TVA – article 261 B du CGI",
    "payment_terms_days": "30", "late_penalty_rate": "12,5", "member": "",
}  # fmt: skip


def test_admin_sets_the_carrier_then_changes_one_field(client, db, admin) -> None:
    assert client.post("/admin/structure", data=CARRIER).status_code == 302
    carrier = db.scalars(select(Carrier)).one()
    assert (carrier.code, carrier.late_penalty_rate) == ("PORTEUR", Decimal("12.50"))
    client.post("/admin/structure", data={**CARRIER, "payment_terms_days": "45"})
    db.refresh(carrier)
    assert carrier.payment_terms_days == 45
    (event,) = _events(db, "carriers", "update")
    assert (event.before, event.after) == ({"payment_terms_days": 30}, {"payment_terms_days": 45})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"siret": fake_siret(299)}, "ne commence pas par le SIREN"),
        ({"payment_terms_days": "75"}, "Nombre trop grand"),
        ({"iban": "FR76 1234"}, "IBAN invalide"),
        ({"bic": "XYZ"}, "BIC invalide"),
        ({"vat_regime": "libre"}, "N&#39;est pas un choix valide"),
        ({"member": "999999"}, "Adhérent inconnu."),
        ({"member": "abc"}, "Adhérent inconnu."),
    ],
)
def test_a_bad_carrier_form_is_refused(client, db, admin, changes, message) -> None:
    page = _text(client.post("/admin/structure", data={**CARRIER, **changes}))
    assert message in page
    assert _count(db, Carrier) == 0


# ------------------------------------------------------------------------------ services


def test_admin_creates_then_renames_and_deactivates_a_service(client, db, admin) -> None:
    data = {"code": "compta", "name": "Comptabilité", "revenue_account": "706100",
            "expense_account": "6226", "overheads_by": "", "active": "y"}  # fmt: skip
    assert client.post("/admin/services/nouveau", data=data).status_code == 302
    service = db.scalars(select(Service)).one()
    assert (service.code, service.overheads_by, service.active) == ("COMPTA", None, True)
    duplicate = _text(client.post("/admin/services/nouveau", data=data))
    assert "Le code « COMPTA » est déjà utilisé par un autre service." in duplicate
    edit = {**data, "name": "Comptabilité / gestion"}
    del edit["active"]
    assert client.post(f"/admin/services/{service.id}", data=edit).status_code == 302
    db.refresh(service)
    assert (service.name, service.active) == ("Comptabilité / gestion", False)
    (event,) = _events(db, "services", "update")
    assert event.after == {"name": "Comptabilité / gestion", "active": False}


def test_a_bad_account_number_is_refused(client, db, admin) -> None:
    data = {"code": "X", "name": "X", "revenue_account": "70A", "expense_account": "6226",
            "overheads_by": "weekly"}  # fmt: skip
    page = _text(client.post("/admin/services/nouveau", data=data))
    assert "Numéro de compte invalide" in page
    assert "N&#39;est pas un choix valide" in page
    assert _count(db, Service) == 0


# ------------------------------------------------------------------------------ users


def _user_form(**changes) -> dict:
    data = {"email": "nadia@adherent.example", "name": "Nadia Roux",
            "roles": ["member_accountant"], "member": "", "active": "y",
            "password": "une phrase de passe solide"}  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_member_accountant_needs_a_member_and_gets_it(client, db, admin, make_member) -> None:
    member = make_member("SCOP")
    page = _text(client.post("/admin/utilisateurs/nouveau", data=_user_form()))
    assert "Un comptable d&#39;adhérent doit être rattaché à un adhérent." in page
    response = client.post("/admin/utilisateurs/nouveau", data=_user_form(member=str(member.id)))
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.email == "nadia@adherent.example")).one()
    assert (user.role_set, user.member_id) == ({Role.MEMBER_ACCOUNTANT}, member.id)
    assert user.check_password("une phrase de passe solide")
    (event,) = [e for e in _events(db, "users", "create") if e.object_id == str(user.id)]
    assert "password_hash" not in event.after


def test_a_member_is_dropped_for_roles_that_see_every_member(client, db, admin, make_member):
    member = make_member("SCOP")
    form = _user_form(roles=["treasurer"], member=str(member.id))
    assert client.post("/admin/utilisateurs/nouveau", data=form).status_code == 302
    user = db.scalars(select(User).where(User.email == "nadia@adherent.example")).one()
    assert user.member_id is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roles": None}, "Choisissez au moins un rôle."),
        ({"roles": ["treasurer"], "password": "azerty123"}, "au moins 10 caractères"),
        ({"roles": ["treasurer"], "password": ""}, "Choisissez un mot de passe initial."),
        ({"roles": ["treasurer"], "email": "pas-une-adresse"}, "Adresse e-mail invalide"),
        ({"roles": ["chef"]}, "choix valide"),
    ],
)
def test_a_bad_user_form_is_refused(client, db, admin, changes, message) -> None:
    before = _count(db, User)
    page = _text(client.post("/admin/utilisateurs/nouveau", data=_user_form(**changes)))
    assert message in page.replace("&#39;", "'")
    assert _count(db, User) == before


def test_an_admin_cannot_lock_themselves_out(client, db, admin) -> None:
    form = {"email": admin.email, "name": admin.name, "roles": ["treasurer"], "active": "y"}
    page = _text(client.post(f"/admin/utilisateurs/{admin.id}", data=form))
    assert "Vous ne pouvez pas retirer votre propre rôle d&#39;administrateur." in page
    page = _text(client.post(f"/admin/utilisateurs/{admin.id}", data={**form, "roles": ["admin"],
                                                                        "active": ""}))  # fmt: skip
    assert "Vous ne pouvez pas désactiver votre propre compte." in page
    db.refresh(admin)
    assert admin.has_role(Role.ADMIN) and admin.active


def test_admin_resets_a_password_and_it_is_audited_without_the_hash(
    client, db, admin, make_user
) -> None:
    user = make_user(Role.DEVELOPER, email="dev@pole.example")
    form = {"email": "dev@pole.example", "name": "Dev", "roles": ["developer", "accountant"],
            "active": "y", "password": "nouvelle phrase secrète"}  # fmt: skip
    assert client.post(f"/admin/utilisateurs/{user.id}", data=form).status_code == 302
    db.refresh(user)
    assert user.check_password("nouvelle phrase secrète")
    assert user.role_set == {Role.DEVELOPER, Role.ACCOUNTANT}
    assert [e.object_id for e in _events(db, "users", "password_reset")] == [str(user.id)]
    (update,) = [e for e in _events(db, "users", "update") if e.object_id == str(user.id)]
    assert update.after == {"name": "Dev", "roles": "accountant developer"}
    assert all("password_hash" not in (e.after or {}) for e in db.scalars(select(AuditEvent)))


def test_a_deactivated_user_can_no_longer_log_in(app: Flask, client, db, admin, make_user):
    user = make_user(Role.TREASURER, email="tres@pole.example")
    form = {"email": user.email, "name": "T", "roles": ["treasurer"], "active": ""}
    client.post(f"/admin/utilisateurs/{user.id}", data=form)
    other = app.test_client()
    response = other.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200  # the login page again, with its message


# ------------------------------------------------------------------------------ audit log


def test_the_audit_log_filters_by_object_action_actor_and_dates(
    client, db, admin, make_member
) -> None:
    client.post("/admin/adherents/nouveau", data=MEMBER_FORM)
    service = {"code": "S", "name": "S", "revenue_account": "706000", "expense_account": "6226",
               "overheads_by": "", "active": "y"}  # fmt: skip
    client.post("/admin/services/nouveau", data=service)
    page = _text(client.get("/admin/journal?objet=members&action=create"))
    assert "La Scop du Val" in page or "SCOP" in page
    assert "Service n°" not in page
    by_actor = _text(client.get(f"/admin/journal?auteur={admin.email}&objet=services"))
    assert "Service" in by_actor and "1 événement." in by_actor
    today = date.today().isoformat()
    assert "1 événement." in _text(
        client.get(f"/admin/journal?objet=services&du={today}&au={today}")
    )
    assert "0 événement." in _text(client.get("/admin/journal?objet=services&au=2000-01-01"))


def test_the_audit_log_is_paginated(app: Flask, client, db, admin, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for n in range(5):
        make_member(f"M{n}")
    page = _text(client.get("/admin/journal?objet=members"))
    assert "Page 1 sur 3" in page
    last = _text(client.get("/admin/journal?objet=members&page=3"))
    assert "Page 3 sur 3" in last and "M0" in last


@pytest.mark.parametrize(
    "url",
    [
        "/admin/journal?page=-3&du=hier&au=31/02/2025&objet=%00&auteur=" + "x" * 5000,
        "/admin/journal?page=99999999999999999999",
        "/admin/adherents?page=abc&statut=inconnu&q=%25%5F'%22<script>",
        "/admin/chiffres?annee=99999",
        "/admin/adherents/999999",
        "/admin/adherents/999999/chiffres",
        "/admin/services/999999",
        "/admin/utilisateurs/999999",
        "/admin/import/autre",
    ],
)
def test_odd_urls_never_give_a_500(client, admin, url) -> None:
    assert client.get(url).status_code in (200, 404)


def test_odd_form_values_never_give_a_500(client, db, admin, make_member) -> None:
    member = make_member("SCOP")
    odd = {name: "\u202e" + "é" * 3000 + "\x00" for name in MEMBER_FORM}
    assert client.post("/admin/adherents/nouveau", data=odd).status_code == 200
    assert client.post(f"/admin/adherents/{member.id}", data=odd).status_code == 200
    assert client.post(f"/admin/adherents/{member.id}/chiffres", data=odd).status_code == 200
    assert client.post("/admin/structure", data=odd).status_code == 200
    assert client.post("/admin/services/nouveau", data=odd).status_code == 200
    assert client.post("/admin/utilisateurs/nouveau", data=odd).status_code == 200
    assert _count(db, Member) == 1


# ------------------------------------------------------------------------------ CSRF


@pytest.mark.parametrize(
    "url",
    ["/admin/adherents/nouveau", "/admin/structure", "/admin/services/nouveau",
     "/admin/utilisateurs/nouveau", "/admin/import/adherents", "/admin/configuration"],
)  # fmt: skip
def test_admin_forms_refuse_a_post_without_csrf_token(
    app: Flask, client, db, admin, monkeypatch, url
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(url, data={**MEMBER_FORM, **CARRIER})
    assert response.status_code == 400
    assert "Formulaire expiré" in _text(response)
    assert _count(db, Member) == 0 and _count(db, Carrier) == 0


def test_a_member_form_with_its_csrf_token_is_accepted(
    app: Flask, client: FlaskClient, db, admin, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = _text(client.get("/admin/adherents/nouveau"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post("/admin/adherents/nouveau", data={**MEMBER_FORM, "csrf_token": token[1]})
    assert response.status_code == 302
    assert _count(db, Member) == 1


# ------------------------------------------------------------------------------ uploads


def _upload(client, url: str, content: bytes, name: str):
    return client.post(
        url, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def test_members_and_figures_are_imported_through_the_browser(client, db, admin) -> None:
    members = f"code;name;siret;joined_on\r\nSCOP;La Scop;{SIRET};2024-01-01\r\n".encode()
    response = _upload(client, "/admin/import/adherents", members, "adherents.csv")
    assert response.status_code == 302
    again = _upload(client, "/admin/import/adherents", members, "adherents.csv")
    assert again.status_code == 302
    page = _text(client.get(again.headers["Location"]))
    assert "Rien à modifier : 1 adhérent dans le fichier, déjà à jour." in page
    figures = "Adhérent;Année;Chiffre d'affaires\r\nSCOP;2025;150000\r\n".encode()
    assert _upload(client, "/admin/import/chiffres", figures, "chiffres.csv").status_code == 302
    assert db.scalar(select(MemberFigures.revenue)) == Decimal("150000.00")


def test_a_bad_upload_lists_each_row_and_column_and_saves_nothing(client, db, admin) -> None:
    bad = b"code;name;siret;joined_on\r\nA;X;123;2024-01-01\r\nA;Y;;hier\r\n"
    response = _upload(client, "/admin/import/adherents", bad, "adherents.csv")
    assert response.status_code == 422
    page = _text(response)
    assert "3 erreurs : rien n'a été enregistré." in page
    assert re.search(r"<td class=\"num\">3</td><td>code</td><td>Code « A » en double", page)
    assert _count(db, Member) == 0
    binary = _upload(client, "/admin/import/chiffres", bytes(range(256)) * 4, "photo.csv")
    assert binary.status_code == 422
    assert "n&#39;est pas un fichier texte" in _text(binary)


def test_the_configuration_is_downloaded_and_applied_through_the_browser(
    client, db, admin, make_member
) -> None:
    make_member("SCOP", name="La Scop")
    download = client.get("/admin/configuration.yaml")
    assert download.mimetype == "application/yaml"
    text = download.get_data()
    assert b"code: SCOP" in text
    response = _upload(client, "/admin/configuration", text, "pole.yaml")
    assert response.status_code == 302
    page = _text(client.get("/admin/configuration"))
    assert "Rien à modifier : cette configuration est déjà appliquée." in page
    bad = _upload(client, "/admin/configuration", b"services:\n  - {code: '', name: X}\n", "x.yaml")
    assert bad.status_code == 422
    assert '<code>services[0].code</code></td><td class="num">2</td><td>Code manquant.' in _text(
        bad
    )


def test_a_members_file_mixing_utf8_and_latin1_is_refused_with_its_line(
    client: FlaskClient, login_as, db: Session
) -> None:
    """Issue 13: it was imported as Windows-1252 (« Trévoux » stored as « TrÃ©voux »)."""
    login_as(Role.ADMIN)
    data = "Code;Nom;Adhésion\nVH;Val Horizon Trévoux;2020-01-01\n".encode() + (
        "BB;Bâgé Services;2021-01-01\n".encode("latin-1")
    )
    response = _upload(client, "/admin/import/adherents", data, "adherents.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<td class="num">3</td>' in page and "texte UTF-8 valide" in page
    assert db.scalars(select(Member).where(Member.code.in_(["VH", "BB"]))).all() == []
    chosen = client.post("/admin/import/adherents", data={
        "file": (io.BytesIO("Code;Nom;Adhésion\nBB;Bâgé Services;2021-01-01\n".encode("latin-1")),
                 "adherents.csv"),
        "encoding": "iso-8859-15"}, content_type="multipart/form-data")  # fmt: skip
    assert chosen.status_code == 302
    assert db.scalars(select(Member.name).where(Member.code == "BB")).one() == "Bâgé Services"
