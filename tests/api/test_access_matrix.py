"""Every API endpoint × every role (and no token) × the member accountant's own and another
member's ids, generated from the URL map (a new endpoint is covered without editing this file,
once its URL parameters have a value in :data:`PARAMS`).

- no token: 401 problem document; a role the endpoint does not declare: 403;
- a declared role never gets 401/403 nor a 5xx, and a GET with existing ids never 404;
- the member accountant asking for another member's object gets 404 (as on the pages), and
  the lists they read never name the other member;
- each endpoint's roles are exactly those of the page it mirrors (``app.api.access.MIRRORS``).

Writes run inside a savepoint rolled back after each request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from accounting.invoicing.models import Payment
from accounting.org import Role
from app.api import access
from tests.api.conftest import ApiWorld
from timesheets.models import EntryStatus, WorkEntry

METHODS = ("GET", "POST", "PATCH", "DELETE")
PUBLIC = {"api-docs.openapi_json", "api_docs_page.docs_page"}


def _entry(db: Session, world: ApiWorld, which: str, role: Role | None = None) -> int:
    """A draft of the member's: the role's own when it has one (only its author, or the
    admin, may change a draft), else the development officer's."""
    drafts = select(WorkEntry.id, WorkEntry.staff_id).where(
        WorkEntry.member_id == world.member(which).id,
        WorkEntry.status == EntryStatus.DRAFT.value,
    ).order_by(WorkEntry.id)
    rows = db.execute(drafts).all()
    author = world.cluster.users[role].id if role else None
    return next((i for i, staff in rows if staff == author), rows[0][0])


def _invoice(world: ApiWorld, which: str) -> int:
    member = world.member(which)
    return next(i.id for i in world.cluster.invoices if i.member_id == member.id)


PARAMS: dict[str, Callable[..., Any]] = {
    "member_id": lambda db, w, which, role: w.member(which).id,
    "entry_id": _entry,
    "invoice_id": lambda db, w, which, role: _invoice(w, which),
    "run_id": lambda db, w, which, role: w.cluster.runs[0].id,  # the approved run
    "service_id": lambda db, w, which, role: w.cluster.services["COMPTA"].id,
    "payment_id": lambda db, w, which, role: db.scalars(select(Payment.id)).first(),
}
#: Parameters naming an object of one member (swapped for the other member's).
MEMBER_BOUND = frozenset({"member_id", "entry_id", "invoice_id"})


def _rules(app: Flask) -> Iterator[tuple[str, Rule]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC:
            continue
        for method in METHODS:
            if method in (rule.methods or ()):
                yield method, rule


def _url(
    app: Flask, rule: Rule, db: Session, world: ApiWorld, which: str, role: Role | None = None
) -> str:
    values = {name: PARAMS[name](db, world, which, role) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _request(call: Any, connection: Connection, method: str, url: str, role: Role | None):
    savepoint = connection.begin_nested() if method != "GET" else None
    try:
        kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
        response = call(method, url, role, **kwargs)
        body = response.get_data(as_text=True) if response.mimetype.endswith("json") else ""
        return response.status_code, response.mimetype, body
    finally:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()


def test_every_api_parameter_has_a_value(app: Flask) -> None:
    missing = {f"{r.endpoint}: {n}" for _, r in _rules(app) for n in r.arguments
               if n not in PARAMS}  # fmt: skip
    assert missing == set()


def test_the_api_has_the_endpoints_of_the_issue(app: Flask) -> None:
    paths = {(m, r.rule) for m, r in _rules(app)}
    for expected in [
        ("GET", "/api/v1/members"), ("GET", "/api/v1/services"), ("GET", "/api/v1/keys"),
        ("GET", "/api/v1/work-entries"), ("POST", "/api/v1/work-entries"),
        ("POST", "/api/v1/work-entries/bulk"), ("POST", "/api/v1/timesheets"),
        ("GET", "/api/v1/allocation-runs"), ("GET", "/api/v1/invoices"),
        ("GET", "/api/v1/credit-notes"), ("GET", "/api/v1/payments"),
        ("POST", "/api/v1/payments"), ("GET", "/api/v1/ledger/entries"),
        ("GET", "/api/v1/ledger/trial-balance"),
    ]:
        assert expected in paths


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "no-token")
def test_every_endpoint_answers_each_role_as_it_declares(
    app: Flask, call: Any, connection: Connection, db: Session, api_world: ApiWorld, role
) -> None:
    failures = []
    for method, rule in _rules(app):
        url = _url(app, rule, db, api_world, "own", role)
        status, mimetype, _ = _request(call, connection, method, url, role)
        where = f"{method} {url} as {role.value if role else 'no token'}"
        declared = app.view_functions[rule.endpoint]._access
        if status >= 500:
            failures.append(f"{where}: {status}")
        elif status >= 400 and mimetype != "application/problem+json":
            failures.append(f"{where}: {status} as {mimetype}, not a problem document")
        elif role is None:
            if status != 401:
                failures.append(f"{where}: {status}, expected 401")
        elif not declared or role in declared:
            if status in (401, 403):
                failures.append(f"{where}: {status}, expected access")
            elif method == "GET" and status == 404:
                failures.append(f"{where}: 404 with ids that exist")
        elif status != 403:
            failures.append(f"{where}: {status}, expected 403")
    assert not failures, "\n".join(failures)


def test_a_member_accountant_gets_nothing_of_another_member(
    app: Flask, call: Any, connection: Connection, db: Session, api_world: ApiWorld
) -> None:
    role = Role.MEMBER_ACCOUNTANT
    other = api_world.other
    failures = []
    for method, rule in _rules(app):
        declared = app.view_functions[rule.endpoint]._access
        if declared and role not in declared:
            continue
        if MEMBER_BOUND & set(rule.arguments):
            url = _url(app, rule, db, api_world, "other", role)
            status, _, _ = _request(call, connection, method, url, role)
            if status not in (403, 404):
                failures.append(f"{method} {url}: {status}, expected 404")
        elif method == "GET":
            url = _url(app, rule, db, api_world, "own")
            status, _, body = _request(call, connection, method, url, role)
            for leak in (f'"member_id": {other.id},', f'"member_id":{other.id},', other.code):
                if leak in body:
                    failures.append(f"GET {url} shows {leak!r}")
    for url in ("/api/v1/work-entries", "/api/v1/invoices", "/api/v1/allocation-runs/"
                f"{api_world.cluster.runs[0].id}/lines"):
        status, _, body = _request(call, connection, "GET", f"{url}?member_id={other.id}",
                                   role)
        if status != 200 or other.code in body or '"items": [{' in body or '"items":[{' in body:
            failures.append(f"GET {url}?member_id=other: {status} {body[:200]}")
    assert not failures, "\n".join(failures)


def test_each_rule_is_the_one_of_its_page(app: Flask) -> None:
    for roles, endpoint in access.MIRRORS:
        assert set(app.view_functions[endpoint]._access) == set(roles), endpoint
    used = {frozenset(view._access) for name, view in app.view_functions.items()
            if name.startswith("api_") and name not in PUBLIC and name != "api_tokens.index"
            and name != "api_tokens.revoke"}  # fmt: skip
    mirrored = {frozenset(roles) for roles, _ in access.MIRRORS} | {frozenset()}
    assert used <= mirrored
