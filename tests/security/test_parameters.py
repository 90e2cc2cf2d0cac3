"""Ids and lists in query strings and forms are checked at the edge (issue 8).

A mangled id ("²" is a digit for ``str.isdigit`` but not for ``int``, 10^20 overflows the
database, a NUL byte PostgreSQL refuses) gets a 400 page naming the parameter in French, and
nothing is written; a list parameter beyond its bound is refused before any query.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.params import MAX_IDS
from tests.security.test_faults import _login, sizes

BAD_IDS = ["²", "abc", "-1", "0", str(10**20), "1\x00", "9" * 5000]
ACTIVITY = {"quoi": "activite", "nom": "Nouvelle", "actif": "1"}

#: (form posted to /temps/services/<COMPTA>, status after redirects, French message shown)
SETTINGS_REFUSALS = [
    *[(dict(ACTIVITY, id=value), 400, "Le paramètre « id » doit être un identifiant")
      for value in BAD_IDS],
    ({"quoi": "x\x00y", "nom": "Nouvelle"}, 400,
     "Le paramètre « quoi » doit valoir « activite » ou « unite » : valeur refusée"),
    # Same answer on SQLite (which would store a NUL) and PostgreSQL (which refuses it).
    (dict(ACTIVITY, nom="Comptes\x00 annuels"), 200, "caractère de contrôle invisible"),
    (dict(ACTIVITY, id="PROSPECTING"), 200, "Activité introuvable."),  # another service's
]  # fmt: skip


@pytest.mark.parametrize(("data", "status", "message"), SETTINGS_REFUSALS,
                         ids=[repr(d) for d, *_ in SETTINGS_REFUSALS])  # fmt: skip
def test_services_settings_refuse_a_bad_parameter_naming_it(
    client: FlaskClient, cluster: Any, db: Session, data: dict[str, str], status: int,
    message: str,
) -> None:
    _login(client, cluster.admin.email)
    if data.get("id") == "PROSPECTING":
        data = dict(data, id=str(cluster.prospecting.id))
    before = sizes(db)
    response = client.post(f"/temps/services/{cluster.compta.id}", data=data,
                           follow_redirects=True)  # fmt: skip
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status
    assert message in text
    if status == 400:
        assert "Rien n'a été enregistré" in text
    assert sizes(db) == before


def test_services_settings_of_an_out_of_range_service_is_not_found(
    client: FlaskClient, cluster: Any
) -> None:
    _login(client, cluster.admin.email)
    response = client.post(f"/temps/services/{10**12}", data={"quoi": "activite", "nom": "N"})
    assert response.status_code == 404


QUERY_IDS = [
    ("/temps/saisies?service={v}", "service"),
    ("/temps/saisies?intervenant={v}", "intervenant"),
    ("/temps/saisies/export.csv?activite={v}", "activite"),
    ("/temps/validation?intervenant={v}", "intervenant"),
    ("/temps/synthese?service={v}", "service"),
    ("/repartition/charges?service={v}", "service"),
]


@pytest.mark.parametrize(("url", "name"), QUERY_IDS, ids=[q[0] for q in QUERY_IDS])
@pytest.mark.parametrize("value", ["²", "1x", str(10**20)], ids=repr)
def test_a_bad_id_in_a_query_string_gets_a_400_naming_it(
    client: FlaskClient, cluster: Any, url: str, name: str, value: str
) -> None:
    _login(client, cluster.admin.email)
    response = client.get(url.format(v=value))
    assert response.status_code == 400
    assert f"Le paramètre « {name} » doit être un identifiant" in html.unescape(
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize("url", ["/temps/saisies?page=²", "/comptabilite/?page=²",
                                 "/repartition/charges?page=²", "/admin/journal?page=²",
                                 "/temps/saisies?page=" + "9" * 5000])  # fmt: skip
def test_a_mangled_page_number_shows_a_page(client: FlaskClient, cluster: Any, url: str) -> None:
    _login(client, cluster.admin.email)
    assert client.get(url).status_code == 200


def test_a_member_typed_as_a_superscript_digit_is_unknown_not_a_crash(
    client: FlaskClient, cluster: Any
) -> None:
    _login(client, cluster.admin.email)
    response = client.get("/temps/saisies?adherent=²")
    assert response.status_code == 200
    assert "Adhérent inconnu « ² »" in html.unescape(response.get_data(as_text=True))


def test_too_many_entries_to_approve_are_refused_before_any_query(
    client: FlaskClient, cluster: Any, db: Session
) -> None:
    _login(client, cluster.admin.email)
    before = sizes(db)
    response = client.post("/temps/validation", data={
        "action": "valider", "saisie": [str(i) for i in range(1, MAX_IDS + 2)]})  # fmt: skip
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert f"paramètre « saisie » : {MAX_IDS + 1}, au plus {MAX_IDS}" in text
    assert sizes(db) == before


def test_too_many_rows_added_to_the_week_are_refused(client: FlaskClient, cluster: Any) -> None:
    _login(client, cluster.admin.email)
    query = "&".join(["ajout=x"] * (MAX_IDS + 1))
    response = client.get(f"/temps/semaine?{query}")
    assert response.status_code == 400
    assert "« ajout »" in html.unescape(response.get_data(as_text=True))
