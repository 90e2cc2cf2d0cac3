"""The member field of the carrier and user forms beyond the select's limit: a text input with
suggestions (no option per member), read by code or « CODE — Nom », an unknown member refused
on its field, by name, with nothing saved."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Carrier, Role, User
from tests.foundation.test_admin_web import CARRIER, _user_form


@pytest.fixture
def admin(login_as, monkeypatch) -> User:
    monkeypatch.setattr("app.admin.member_chooser.MEMBER_SELECT_LIMIT", 1)
    return login_as(Role.ADMIN)


def _page(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _member_input(page: str) -> str:
    (found,) = re.findall(r'<input type="text" id="member"[^>]*>', page)
    return found


def test_beyond_the_limit_the_user_form_has_a_text_input_and_no_member_option(
    client, db: Session, admin, make_member
) -> None:
    make_member("SCOP", name="La Scop du Val")
    make_member("CAE", name="Coopérative d'activités")
    page = _page(client.get("/admin/utilisateurs/nouveau"))
    assert 'data-options-url="/temps/adherents.json"' in _member_input(page)
    assert "La Scop du Val" not in page and "<option" not in page.split('id="member"')[1][:200]
    assert "timesheets.js" in page


def test_a_member_typed_by_code_or_label_is_saved_and_shown_back(
    client, db: Session, admin, make_member
) -> None:
    member = make_member("SCOP", name="La Scop du Val")
    make_member("CAE")
    response = client.post("/admin/utilisateurs/nouveau", data=_user_form(member="scop"))
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.email == "nadia@adherent.example")).one()
    assert user.member_id == member.id
    shown = _member_input(_page(client.get(f"/admin/utilisateurs/{user.id}")))
    assert 'value="SCOP — La Scop du Val"' in shown
    # Saving the page as shown keeps the member.
    form = _user_form(member="SCOP — La Scop du Val", password="")
    assert client.post(f"/admin/utilisateurs/{user.id}", data=form).status_code == 302
    db.refresh(user)
    assert user.member_id == member.id


@pytest.mark.parametrize("typed", ["INCONNU", "Travail commun", "999999"])
def test_an_unknown_member_is_refused_on_its_field_and_nothing_is_saved(
    client, db: Session, admin, make_member, typed
) -> None:
    member = make_member("SCOP")
    make_member("CAE")
    user_count = len(db.scalars(select(User)).all())
    page = _page(client.post("/admin/utilisateurs/nouveau", data=_user_form(member=typed)))
    assert "Adhérent (pour un comptable d'adhérent) : " in page
    assert "Le formulaire contient des erreurs" in page
    assert f"« {typed} »" in page
    assert len(db.scalars(select(User)).all()) == user_count
    assert 'value="' + typed + '"' in _member_input(page)  # what was typed, to correct it
    # The carrier: the same refusal, its field named, the stored member unchanged.
    data = {**CARRIER, "member": "scop"}
    assert client.post("/admin/structure", data=data).status_code == 302
    data = {**CARRIER, "member": typed, "name": "Autre nom"}
    page = _page(client.post("/admin/structure", data=data))
    assert "Adhérent qui est la structure elle-même : " in page
    carrier = db.scalars(select(Carrier)).one()
    db.refresh(carrier)
    assert (carrier.member_id, carrier.name) == (member.id, "Association Porteuse")


def test_the_carrier_shows_its_member_and_an_empty_input_drops_it(
    client, db: Session, admin, make_member
) -> None:
    make_member("SCOP", name="La Scop du Val")
    make_member("CAE")
    assert client.post("/admin/structure", data={**CARRIER, "member": "SCOP"}).status_code == 302
    shown = _member_input(_page(client.get("/admin/structure")))
    assert 'value="SCOP — La Scop du Val"' in shown
    assert client.post("/admin/structure", data={**CARRIER, "member": " "}).status_code == 302
    carrier = db.scalars(select(Carrier)).one()
    db.refresh(carrier)
    assert carrier.member_id is None
