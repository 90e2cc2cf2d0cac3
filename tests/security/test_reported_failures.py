"""The five failures of the attack run of issue 13, one test (or more) each, written before the
fixes and seen failing:

1. a user holding developer and member_accountant saw and edited every member;
2. the allocation explanation named the other members that received rounding cents;
3. ``POST /comptabilite/fec/controle`` answered 500 for hostile file names;
4. a cookie copied before logout still opened pages (and a POST) afterwards;
5. a CSRF token of the pre-login page was accepted after login.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import MemberFigures, Role, User
from accounting.periods import Period
from app.allocation.services import approve
from tests.cluster_data import Cluster, build_cluster
from tests.conftest import TEST_PASSWORD

A, C, M, D, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.DEVELOPER, Role.TREASURER


def _user(db: Session, *roles: Role, member_id: int | None, email: str) -> User:
    user = User(email=email, name="Personne combinée", member_id=member_id)
    user.role_set = set(roles)
    user.set_password(TEST_PASSWORD)
    db.add(user)
    db.flush()
    return user


def _login(client: FlaskClient, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def cluster(db: Session) -> Cluster:
    return build_cluster(db, members=3)


# ---------------------------------------------------------------- 1. role combinations


def test_developer_and_member_accountant_sees_only_their_member(
    client: FlaskClient, db: Session, cluster: Cluster
) -> None:
    own, other = cluster.members[0], cluster.members[1]
    user = _user(db, D, M, member_id=own.id, email="aidvs@cluster.test")
    _login(client, user)
    listing = client.get("/factures/").get_data(as_text=True)
    assert own.name in listing
    assert other.name not in listing and other.code not in listing
    other_invoice = next(i for i in cluster.invoices if i.member_id == other.id)
    run = cluster.runs[0]
    for url in (
        f"/factures/{other_invoice.id}",
        f"/factures/{other_invoice.id}/xlsx",
        f"/comptabilite/adherent?adherent={other.id}",
        f"/repartition/{run.id}/COMPTA/{other.code}",
        f"/admin/adherents/{other.id}/chiffres",
    ):
        assert client.get(url).status_code in (403, 404), url
    before = db.scalars(
        select(MemberFigures.revenue).where(MemberFigures.member_id == other.id)
    ).one()
    response = client.post(
        f"/admin/adherents/{other.id}/chiffres",
        data={"year": str(cluster.today.year), "revenue": "1,00"},
    )
    assert response.status_code in (403, 404)
    db.expire_all()
    after = db.scalars(
        select(MemberFigures.revenue).where(MemberFigures.member_id == other.id)
    ).one()
    assert after == before == Decimal("100000.00")


def test_developer_and_member_accountant_keeps_their_own_member(
    client: FlaskClient, db: Session, cluster: Cluster
) -> None:
    own = cluster.members[0]
    user = _user(db, D, M, member_id=own.id, email="aidvs2@cluster.test")
    _login(client, user)
    own_invoice = next(i for i in cluster.invoices if i.member_id == own.id)
    assert client.get(f"/factures/{own_invoice.id}").status_code == 200
    assert client.get(f"/admin/adherents/{own.id}/chiffres").status_code == 200
    assert client.get(f"/repartition/{cluster.runs[0].id}/COMPTA/{own.code}").status_code == 200


# ---------------------------------------------------------------- 2. private explanations


def test_the_explanation_names_only_the_member_of_the_member_accountant(
    client: FlaskClient, db: Session, cluster: Cluster
) -> None:
    # Last month: 1 000,00 € of COMPTA shared equally by 3 members = 333,33 € each and one cent
    # left, handed to the largest remainder; equal remainders go by code order: A0001.
    waiting = cluster.runs[1]
    approve(db, waiting, user_id=cluster.users[T].id)
    first, second, third = cluster.members
    user = _user(db, M, member_id=second.id, email="servemploi@cluster.test")
    _login(client, user)
    response = client.get(f"/repartition/{waiting.id}/COMPTA/{second.code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "il restait 1 centime " in page
    assert first.code not in page and third.code not in page
    assert first.name not in page and third.name not in page
    assert "1 autre adhérent" in page
    # Staff still see the names.
    staff = FlaskClient(client.application, client.response_wrapper, use_cookies=True)
    _login(staff, cluster.users[T])
    page = staff.get(f"/repartition/{waiting.id}/COMPTA/{second.code}").get_data(as_text=True)
    assert f": {first.code}." in page or f": {first.code}" in page


# ---------------------------------------------------------------- 3. hostile upload names


@pytest.mark.parametrize("name", ["..", ".", "x" * 300 + ".txt", "fec\x00.txt", "/", "a/../.."])
def test_the_fec_check_refuses_hostile_names_cleanly(
    client: FlaskClient, login_as, name: str
) -> None:
    login_as(C)
    response = client.post(
        "/comptabilite/fec/controle",
        data={"document": (io.BytesIO(b"JournalCode\tJournalLib\n"), name)},
        content_type="multipart/form-data",
    )
    assert 300 <= response.status_code < 500, response.status_code


# ---------------------------------------------------------------- 4. logout ends the session


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(
    app: Flask, client: FlaskClient, db: Session, login_as
) -> None:
    login_as(A)
    assert client.get("/admin/utilisateurs").status_code == 200
    copied = client.get_cookie("session")
    assert copied is not None
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied.value)
    for url in ("/accueil", "/admin/utilisateurs"):
        response = thief.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    response = thief.post("/repartition/periodes", data={"code": "2031-04"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.scalars(select(Period).where(Period.start == date(2031, 4, 1))).first() is None


# ---------------------------------------------------------------- 5. CSRF rotated at login


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert found, "the page carries a CSRF token"
    return found[1]


def test_a_csrf_token_from_before_login_is_refused_after_it(
    app: Flask, client: FlaskClient, db: Session, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user(A)
    before = _token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": before}
    )
    assert response.status_code == 302
    response = client.post("/repartition/periodes", data={"code": "2031-05", "csrf_token": before})
    assert response.status_code == 400
    assert db.scalars(select(Period).where(Period.start == date(2031, 5, 1))).first() is None
    # A token of a page seen after login works.
    after = _token(client.get("/repartition/periodes").get_data(as_text=True))
    response = client.post("/repartition/periodes", data={"code": "2031-05", "csrf_token": after})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/repartition/periodes"), response.headers
    assert db.scalars(select(Period).where(Period.start == date(2031, 5, 1))).first() is not None


def test_a_csrf_token_from_before_logout_is_refused_after_it(
    app: Flask, client: FlaskClient, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user(A)
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                "csrf_token": token})
    inside = _token(client.get("/repartition/periodes").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": inside}).status_code == 302
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": inside}
    )
    assert response.status_code == 400
