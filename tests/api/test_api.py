"""What the API does, request by request: tokens, cookies and CSRF, bad input (nothing
written), work entries (cursor, own drafts, bulk all or nothing), Kimai's timesheets,
payments, the audit log, rate limits and the documentation page. Expected values are worked
out from the cluster of ``tests.cluster_data``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from facturx import get_xml_from_pdf
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.db import utcnow
from accounting.invoicing.models import Payment
from accounting.org import Role, User
from app import create_app
from app.api.tokens import ApiToken, create_token, digest
from tests.api.conftest import ApiWorld
from tests.conftest import TEST_PASSWORD
from timesheets.models import Activity, WorkEntry

PROBLEM = "application/problem+json"


def _count(db: Session, model: Any = WorkEntry) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- tokens, cookies, CSRF


def test_the_token_page_shows_a_token_once_and_stores_only_its_hash(
    client, login_as, db: Session
) -> None:
    user = login_as(Role.DEVELOPER)
    page = client.post("/compte/jetons/", data={"name": "Mon script", "days": "30"})
    assert page.status_code == 200
    secret = re.search(r'id="new-token">(mtl_[A-Za-z0-9_-]+)<', page.get_data(as_text=True))[1]
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.token_hash == digest(secret) and secret not in (token.prefix, token.token_hash)
    assert token.expires_at - token.created_at == timedelta(days=30)
    assert secret not in client.get("/compte/jetons/").get_data(as_text=True)  # shown once
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json["email"] == user.email
    assert client.post(f"/compte/jetons/{token.id}/revoquer").status_code == 302
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401 and again.mimetype == PROBLEM
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "api_tokens", AuditEvent.actor_id == user.id)) >= 2


def test_expired_revoked_unknown_tokens_and_inactive_users_get_401(
    call, db: Session, api_world: ApiWorld
) -> None:
    admin = api_world.cluster.users[Role.ADMIN]
    expired = create_token(db, admin, name="vieux", days=1)
    expired.token.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    for secret in (expired.secret, "mtl_nope", "pas-un-jeton", ""):
        response = call("GET", "/api/v1/me", token=secret)
        assert response.status_code == 401, secret
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    user = db.get(User, api_world.cluster.users[Role.ACCOUNTANT].id)
    user.active = False
    db.flush()
    assert call("GET", "/api/v1/me", Role.ACCOUNTANT).status_code == 401


def test_a_read_only_token_reads_and_writes_nothing(call, db, api_world) -> None:
    assert call("GET", "/api/v1/work-entries", token=api_world.read_only).status_code == 200
    before = _count(db)
    response = call("POST", "/api/v1/work-entries", token=api_world.read_only, json={
        "day": api_world.cluster.today.isoformat(),
        "service_id": api_world.cluster.services["DEV"].id, "minutes": 30})
    assert response.status_code == 403 and "lecture seule" in response.json["detail"]
    assert _count(db) == before


def test_a_session_cookie_alone_authorises_nothing_and_csrf_does_not_apply_to_tokens(
    app: Flask, client, db, api_world, monkeypatch
) -> None:
    admin = api_world.cluster.users[Role.ADMIN]
    assert client.post("/login", data={"email": admin.email, "password": TEST_PASSWORD}
                       ).status_code == 302
    assert client.get("/accueil").status_code == 200  # the session works for the pages
    body = {"day": api_world.cluster.today.isoformat(),
            "service_id": api_world.cluster.services["DEV"].id, "minutes": 30}
    before = _count(db)
    assert client.get("/api/v1/me").status_code == 401
    refused = client.post("/api/v1/work-entries", json=body)
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
    assert _count(db) == before
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    created = client.post("/api/v1/work-entries", json=body,
                          headers={"Authorization": f"Bearer {api_world.tokens[Role.ADMIN]}"})
    assert created.status_code == 201 and _count(db) == before + 1


# ---------------------------------------------------------------- bad input


def test_bad_input_is_a_french_problem_document_and_writes_nothing(call, db, api_world) -> None:
    dev = api_world.cluster.services["DEV"].id
    day = api_world.cluster.today.isoformat()
    before = _count(db)
    cases = [
        ({"day": day, "service_id": "DEV", "minutes": 30}, 422, "service_id"),  # wrong type
        ({"day": day, "minutes": 30}, 422, "service_id"),  # missing field
        ({"day": "05/03/2026", "service_id": dev, "minutes": 30}, 422, "day"),
        ({"day": day, "service_id": dev, "minutes": 30, "couleur": "bleu"}, 422, "couleur"),
        ({"day": day, "service_id": 999_999, "minutes": 30}, 422, None),  # unknown id
        ({"day": day, "service_id": dev, "minutes": 30, "member_id": api_world.other.id},
         403, None),  # another member's id, as the member accountant
    ]
    for body, status, field in cases:
        role = Role.MEMBER_ACCOUNTANT if status == 403 else Role.DEVELOPER
        response = call("POST", "/api/v1/work-entries", role, json=body)
        assert response.status_code == status, (body, response.json)
        assert response.mimetype == PROBLEM and response.json["status"] == status
        if field:
            assert response.json["errors"][0]["field"] == field
            assert response.json["errors"][0]["message"][0].isupper()
    malformed = call("POST", "/api/v1/work-entries", data="{day: ", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json["detail"] == "Le corps de la requête n'est pas un JSON valide."
    huge = call("POST", "/api/v1/work-entries", data=b"[" + b" " * (50 * 1024 * 1024) + b"]",
                content_type="application/json")
    assert huge.status_code == 413 and huge.mimetype == PROBLEM
    assert call("GET", "/api/v1/members/999999").status_code == 404
    assert call("GET", "/api/v1/members/99999999999").status_code == 404
    assert call("GET", "/api/v1/work-entries?limit=0").status_code == 422
    assert call("GET", "/api/v1/work-entries?cursor=zzz").status_code == 400
    assert _count(db) == before


# ---------------------------------------------------------------- work entries


def test_the_cursor_walks_every_visible_entry_once_newest_first(call, api_world) -> None:
    full = call("GET", "/api/v1/work-entries?limit=1000").json
    assert full["next_cursor"] is None
    # the cluster: 4 entries per member (2 members) + 1 common + the member accountant's draft
    assert len(full["items"]) == 10
    seen, cursor = [], None
    while True:
        url = "/api/v1/work-entries?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = call("GET", url).json
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == full["items"]
    keys = [(item["day"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)
    mine = call("GET", "/api/v1/work-entries", Role.MEMBER_ACCOUNTANT).json["items"]
    assert {item["member_id"] for item in mine} == {api_world.own.id}


def test_own_drafts_change_and_go_others_do_not(call, db, api_world) -> None:
    developer = api_world.cluster.users[Role.DEVELOPER]
    draft = db.scalars(select(WorkEntry).where(WorkEntry.staff_id == developer.id,
                                               WorkEntry.status == "draft")).first()
    changed = call("PATCH", f"/api/v1/work-entries/{draft.id}", Role.DEVELOPER,
                   json={"minutes": 75, "note": "relu"})
    assert changed.status_code == 200
    assert changed.json["entries"][0]["minutes"] == 75
    assert changed.json["entries"][0]["note"] == "relu"
    assert call("DELETE", f"/api/v1/work-entries/{draft.id}", Role.ACCOUNTANT).status_code == 403
    approved = db.scalars(select(WorkEntry).where(WorkEntry.status == "approved")).first()
    locked = call("PATCH", f"/api/v1/work-entries/{approved.id}", Role.ADMIN, json={"minutes": 5})
    assert locked.status_code == 409
    assert call("DELETE", f"/api/v1/work-entries/{draft.id}", Role.DEVELOPER).status_code == 204
    assert db.scalar(select(func.count()).where(WorkEntry.id == draft.id)) == 0


def test_a_bulk_batch_is_all_or_nothing_with_every_bad_row_named(call, db, api_world) -> None:
    dev = api_world.cluster.services["DEV"].id
    day = (api_world.cluster.today - timedelta(days=1)).isoformat()
    own = api_world.own.id
    before = _count(db)
    refused = call("POST", "/api/v1/work-entries/bulk", Role.DEVELOPER, json={"entries": [
        {"day": day, "service_id": dev, "minutes": 600, "member_id": own},
        {"day": day, "service_id": 999_999, "minutes": 30},  # row 2: unknown service
        {"day": day, "service_id": dev, "minutes": 900, "member_id": own},  # row 3: 25 h
    ]})
    assert refused.status_code == 422
    rows = {(e["row"], e["message"]) for e in refused.json["errors"]}
    assert (2, "Service inconnu.") in rows
    assert any(row == 3 and "Plus de 24 h" in message for row, message in rows)
    assert _count(db) == before
    typed = call("POST", "/api/v1/work-entries/bulk", Role.DEVELOPER,
                 json={"entries": [{"day": day, "service_id": dev}, {"day": "hier"}]})
    assert {(e["row"], e["field"]) for e in typed.json["errors"]} == {(2, "day"),
                                                                      (2, "service_id")}
    created = call("POST", "/api/v1/work-entries/bulk", Role.DEVELOPER, json={"entries": [
        {"day": day, "service_id": dev, "minutes": 600, "member_id": own},
        {"day": day, "service_id": dev, "minutes": 180, "member_id": own, "note": "b"}]})
    assert created.status_code == 201 and len(created.json["entries"]) == 2
    assert created.json["warnings"]  # 13 h on that day: warned, accepted
    assert _count(db) == before + 2


def test_kimai_timesheets_map_project_and_activity(call, db, api_world) -> None:
    day = api_world.cluster.today
    response = call("POST", "/api/v1/timesheets", Role.DEVELOPER, json={
        "begin": f"{day}T08:15:00", "end": f"{day}T09:45:00", "project": api_world.own.code,
        "activity": "prospection", "description": "Rendez-vous", "tags": ["x"], "user": 12,
    })
    assert response.status_code == 201, response.json
    assert response.json["minutes"] == 90 and response.json["duration"] == 5400
    entry = db.get(WorkEntry, response.json["id"])
    activity = db.scalars(select(Activity).where(Activity.name == "Prospection")).one()
    assert (entry.member_id, entry.activity_id, entry.service_id, entry.note, entry.staff_id) == (
        api_world.own.id, activity.id, activity.service_id, "Rendez-vous",
        api_world.cluster.users[Role.DEVELOPER].id)
    by_duration = call("POST", "/api/v1/timesheets", Role.DEVELOPER, json={
        "begin": f"{day}T10:00:00", "duration": 1800, "customer": api_world.own.id,
        "activity": activity.id})
    assert by_duration.status_code == 201 and by_duration.json["minutes"] == 30
    unknown = call("POST", "/api/v1/timesheets", Role.DEVELOPER, json={
        "begin": f"{day}T10:00:00", "duration": 60, "project": "Inconnu", "activity": 1})
    assert unknown.status_code == 422
    backwards = call("POST", "/api/v1/timesheets", Role.DEVELOPER, json={
        "begin": f"{day}T10:00:00", "end": f"{day}T09:00:00", "project": api_world.own.code,
        "activity": activity.id})
    assert backwards.status_code == 422


# ---------------------------------------------------------------- money, audit, limits


def test_the_treasurer_records_a_payment_audited_in_their_name(call, db, api_world) -> None:
    treasurer = api_world.cluster.users[Role.TREASURER]
    other_invoice = next(i for i in api_world.cluster.invoices
                         if i.member_id == api_world.other.id)
    response = call("POST", "/api/v1/payments", Role.TREASURER, json={
        "member_id": api_world.other.id, "paid_on": api_world.cluster.today.isoformat(),
        "amount": "2000", "reference": "VIR 42"})
    assert response.status_code == 201, response.json
    # the other member owes its invoice of 1 600.00: 400.00 is kept as a credit on account
    assert response.json["amount"] == "2000.00" and response.json["unallocated"] == "400.00"
    assert response.json["allocations"] == [
        {"invoice_id": other_invoice.id, "invoice_number": other_invoice.number,
         "amount": "1600.00"}]
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "payments",
        AuditEvent.object_id == str(response.json["id"]))).first()
    assert event is not None and event.actor_id == treasurer.id
    before = _count(db, Payment)
    for body in ({"member_id": api_world.other.id, "paid_on": "2026-01-01", "amount": 10},
                 {"member_id": api_world.other.id, "paid_on": "2026-01-01", "amount": "1,5"},
                 {"member_id": 999_999, "paid_on": "2026-01-01", "amount": "1.00"}):
        assert call("POST", "/api/v1/payments", Role.TREASURER, json=body).status_code == 422
    assert call("POST", "/api/v1/payments", Role.DEVELOPER, json={}).status_code == 403
    assert _count(db, Payment) == before


def test_amounts_are_strings_with_two_decimals(call, api_world) -> None:
    invoice = call("GET", "/api/v1/invoices").json["items"][0]
    assert invoice["total_incl_tax"] == "1600.00" and invoice["amount_credited"] == "0.00"
    balance = call("GET", "/api/v1/ledger/trial-balance?start=2000-01-01&end=2100-12-31").json
    assert balance["totals"]["balanced"] is True
    assert balance["totals"]["debit"] == balance["totals"]["credit"]


def test_an_invoice_pdf_is_its_factur_x_document_for_its_readers_only(call, api_world) -> None:
    own = next(i for i in api_world.cluster.invoices if i.member_id == api_world.own.id)
    other = next(i for i in api_world.cluster.invoices if i.member_id == api_world.other.id)
    for role in (Role.ADMIN, Role.MEMBER_ACCOUNTANT):
        response = call("GET", f"/api/v1/invoices/{own.id}/pdf", role)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=FACTURE-{own.number}.pdf")
        pdf = response.get_data()
        assert pdf.startswith(b"%PDF")
        name, xml = get_xml_from_pdf(pdf, check_xsd=False)
        assert name == "factur-x.xml"
        assert f"<ram:ID>{own.number}</ram:ID>".encode() in xml
    # another member's invoice: 404 for the member accountant, as its workbook and the page
    for suffix in ("pdf", "xlsx"):
        hidden = call("GET", f"/api/v1/invoices/{other.id}/{suffix}", Role.MEMBER_ACCOUNTANT)
        assert hidden.status_code == 404 and hidden.mimetype == PROBLEM
    assert call("GET", f"/api/v1/invoices/{own.id}/pdf", Role.DEVELOPER).status_code == 403
    assert call("GET", f"/api/v1/invoices/{own.id}/pdf", None).status_code == 401
    assert call("GET", "/api/v1/invoices/999999/pdf").status_code == 404


def test_the_rate_limit_answers_429_per_token(
    database_url, engine, db, api_world, connection
) -> None:
    from sqlalchemy.orm import sessionmaker

    limited = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
        "MUTUALISE_ENV": "testing", "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://", "API_RATELIMIT": "3 per minute",
    })
    limited.extensions["mutualise.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    client = limited.test_client()
    headers = {"Authorization": f"Bearer {api_world.tokens[Role.ADMIN]}"}
    statuses = [client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = {"Authorization": f"Bearer {api_world.tokens[Role.TREASURER]}"}
    assert client.get("/api/v1/me", headers=other).status_code == 200  # its own counter
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.mimetype == PROBLEM and refused.json["title"] == "Trop de requêtes"


def test_the_documentation_is_served_from_our_origin(client) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"] == "3.1.0"
    assert "appels de fonds" in spec.json["info"]["description"]
    assert "PDF" not in spec.json["info"]["description"]  # no longer "not available"
    for suffix, media in (
        ("pdf", "application/pdf"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        ok = spec.json["paths"][f"/api/v1/invoices/{{invoice_id}}/{suffix}"]["get"]["responses"]
        assert list(ok["200"]["content"]) == [media]
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in html and "http" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        response = client.get(asset)
        response.close()
        assert response.status_code == 200, asset
