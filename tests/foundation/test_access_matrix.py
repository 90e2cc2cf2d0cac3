"""The role x route matrix, generated from ``app.url_map``: every route of every area, for every
role and for an anonymous visitor, with real object ids from a small cluster of two members.

- anonymous: a public route answers, any other sends to the login page;
- a role the route does not declare gets 403; a role it declares never gets 403 or a 500;
- a member accountant asking for another member's objects (member, invoice, work entry...) gets
  403 or 404, and their own objects answer; the pages they may open without an id never show
  the other member.

A route added by any area is covered without editing this file, provided its URL parameters
have a value in :data:`PARAMS` (``test_every_route_parameter_has_a_value`` says which are
missing). Each request runs inside a savepoint rolled back after it, so a POST (approve, delete,
close...) never changes what the next request sees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from accounting.allocation.models import AllocationKey
from accounting.costs import Cost
from accounting.ledger.catchup import post_missing
from accounting.ledger.models import Account, JournalEntry
from accounting.org import Member, Role, User
from tests.cluster_data import Cluster, build_cluster
from tests.conftest import TEST_PASSWORD
from timesheets.models import WorkEntry

METHODS = ("GET", "POST")
ROLES: list[Role | None] = [None, *Role]
A, C, M, D, T = (
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.MEMBER_ACCOUNTANT,
    Role.DEVELOPER,
    Role.TREASURER,
)


@dataclass
class World:
    """The cluster, seen from the member accountant: ``own`` is their member."""

    cluster: Cluster
    own: Member
    other: Member

    def member(self, which: str) -> Member:
        return self.own if which == "own" else self.other


def _invoice(world: World, which: str) -> int:
    member = world.member(which)
    return next(i.id for i in world.cluster.invoices if i.member_id == member.id)


def _journal_entry(db: Session, world: World, which: str) -> int:
    """The sales entry of the member's invoice (posted first: the cluster issues through the
    domain, without the ledger)."""
    post_missing(db)
    invoice_id = _invoice(world, which)
    return db.scalars(
        select(JournalEntry.id).where(
            JournalEntry.source_type == "invoice", JournalEntry.source_id == invoice_id
        )
    ).one()


def _entry(db: Session, world: World, which: str) -> int:
    member = world.member(which)
    return db.scalars(
        select(WorkEntry.id).where(WorkEntry.member_id == member.id).order_by(WorkEntry.id)
    ).first()


#: URL parameter -> its value, from the world (``which`` is "own" or "other" for the values
#: that belong to a member; the others ignore it). Add a line when a new parameter appears.
def _mapping(db: Session) -> int:
    from accounting.ledger.mapping import save_mapping

    return save_mapping(db, "prefix", "6063", "606400").id


PARAMS: dict[str, Callable[[Session, World, str], Any]] = {
    "member_id": lambda db, w, which: w.member(which).id,
    "member_code": lambda db, w, which: w.member(which).code,
    "invoice_id": lambda db, w, which: _invoice(w, which),
    "entry_id": lambda db, w, which: _entry(db, w, which),
    "run_id": lambda db, w, which: w.cluster.runs[0].id,
    "service_code": lambda db, w, which: "COMPTA",
    "service_id": lambda db, w, which: w.cluster.services["COMPTA"].id,
    "period_code": lambda db, w, which: w.cluster.past.code,
    "code": lambda db, w, which: w.cluster.past.code,
    "period_id": lambda db, w, which: w.cluster.past.id,
    "line_id": lambda db, w, which: db.scalars(select(Cost.id).order_by(Cost.id)).first(),
    "kind": lambda db, w, which: "cost",
    "user_id": lambda db, w, which: w.cluster.users[Role.MEMBER_ACCOUNTANT].id,
    "fmt": lambda db, w, which: "csv",
    "journal_entry_id": _journal_entry,
    "document_id": lambda db, w, which: _invoice(w, which),
    "account_id": lambda db, w, which: db.scalars(select(Account.id).order_by(Account.id)).first(),
    "year": lambda db, w, which: w.cluster.past.start.year,
    "valid_from": lambda db, w, which: db.scalars(
        select(AllocationKey.valid_from).order_by(AllocationKey.valid_from)).first().isoformat(),
    "mapping_id": lambda db, w, which: _mapping(db),
    "token_id": lambda db, w, which: 1,
    "token": lambda db, w, which: "jeton-inconnu",
}
#: Values that differ for one endpoint ((endpoint, parameter) -> value).
ENDPOINT_PARAMS: dict[tuple[str, str], Any] = {
    ("admin.import_file", "kind"): "adherents",
    ("timesheets.summary", "fmt"): "xlsx",
    ("ledger.document", "kind"): "invoice",
    ("ledger.member_download", "fmt"): "xlsx",
    ("ledger.journal_rename", "code"): "HA",
}
#: Query strings some routes need to answer (without them they answer 404 by design).
ENDPOINT_QUERY: dict[str, Callable[[World], dict[str, str]]] = {
    "allocation.key_compare_xlsx": lambda w: {"service": "COMPTA", "cle": "equal"},
}
#: Parameters naming an object that belongs to one member (the scope test swaps them).
MEMBER_BOUND = frozenset(
    {"member_id", "member_code", "invoice_id", "entry_id", "journal_entry_id", "document_id"}
)
#: Access the admin area must keep (a route loosened by mistake fails here too, not only in
#: the generic rule below).
ADMIN_AREA = {
    "admin.figures": {A, T},
    "admin.audit": {A, T},
    "admin.member_figures": {A, M},
    "admin.my_figures": {M},
}
#: A view may refine its endpoint's rule per method: (endpoint, method) -> the roles allowed.
METHOD_ACCESS: dict[tuple[str, str], set[Role]] = {
    ("allocation.periods", "POST"): {A},  # the treasurer sees the periods, the admin closes them
    ("ledger.accounts", "POST"): {A},  # the chart is read by the bookkeepers, edited by the admin
}
#: Defects found by this matrix in other areas, reported and not yet fixed: (method, endpoint,
#: test) -> what happens. Remove a line when its defect is fixed.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}
#: Routes that leave the session (the matrix needs it to stay logged in).
SKIPPED = frozenset({"auth.logout", "auth.logout_everywhere"})


def _rules(app: Flask) -> Iterator[tuple[str, Rule]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" or rule.endpoint in SKIPPED:
            continue
        if rule.rule.startswith("/api/"):
            continue  # Bearer tokens, not sessions: tests/api/test_access_matrix.py
        for method in METHODS:
            if method in (rule.methods or ()):
                yield method, rule


def _declared(app: Flask, endpoint: str) -> Any:
    return getattr(app.view_functions[endpoint], "_access", None)


def _allowed(app: Flask, endpoint: str, role: Role | None, method: str = "GET") -> bool:
    if (endpoint, method) in METHOD_ACCESS:
        return role in METHOD_ACCESS[(endpoint, method)]
    access = _declared(app, endpoint)
    if access == "public":
        return True
    if role is None:
        return False
    return not access or role in access


def _url(app: Flask, rule: Rule, db: Session, world: World, which: str, method: str) -> str:
    values = {}
    for name in rule.arguments:
        if (rule.endpoint, name) in ENDPOINT_PARAMS:
            values[name] = ENDPOINT_PARAMS[(rule.endpoint, name)]
        else:
            values[name] = PARAMS[name](db, world, which)
    query = ENDPOINT_QUERY.get(rule.endpoint, lambda w: {})(world)
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {**values, **query}, method=method)


@pytest.fixture
def world(db: Session) -> World:
    cluster = build_cluster(db, members=2)
    own, other = cluster.members
    assert cluster.users[Role.MEMBER_ACCOUNTANT].member_id == own.id
    return World(cluster, own, other)


def _login(client: FlaskClient, world: World, role: Role | None) -> None:
    if role is None:
        return
    email = world.cluster.users[role].email
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, f"{role} cannot log in"


def _request(
    client: FlaskClient, connection: Connection, method: str, url: str
) -> tuple[int, str, str]:
    """The response of one request; a POST runs inside a savepoint rolled back after it (GETs
    change nothing, and a streamed download keeps its session open past the response)."""
    savepoint = connection.begin_nested() if method == "POST" else None
    try:
        response = client.open(url, method=method, data={} if method == "POST" else None)
        try:
            text = response.mimetype.startswith("text/")
            body = response.get_data(as_text=True) if text else ""
        finally:
            response.close()
        return response.status_code, response.headers.get("Location", ""), body
    finally:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()


def test_every_route_parameter_has_a_value(app: Flask) -> None:
    missing = sorted(
        {
            f"{rule.endpoint}: {name}"
            for _, rule in _rules(app)
            for name in rule.arguments
            if name not in PARAMS and (rule.endpoint, name) not in ENDPOINT_PARAMS
        }
    )
    assert missing == [], "add these URL parameters to PARAMS in this file"


def test_the_admin_area_keeps_its_access_rules(app: Flask) -> None:
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("admin."):
            expected = ADMIN_AREA.get(endpoint, {A})
            assert set(view._access) == expected, endpoint


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_every_route_answers_each_role_as_it_declares(
    app: Flask, client: FlaskClient, connection: Connection, db: Session, world: World, role
) -> None:
    _login(client, world, role)
    failures = []
    for method, rule in _rules(app):
        if any(name not in PARAMS and (rule.endpoint, name) not in ENDPOINT_PARAMS
               for name in rule.arguments):  # fmt: skip
            continue  # reported by test_every_route_parameter_has_a_value
        if (method, rule.endpoint, "roles") in KNOWN_DEFECTS:
            continue
        url = _url(app, rule, db, world, "own", method)
        status, location, _ = _request(client, connection, method, url)
        where = f"{method} {url} ({rule.endpoint}) as {role.value if role else 'anonymous'}"
        if status >= 500:
            failures.append(f"{where}: {status}")
        elif _allowed(app, rule.endpoint, role, method):
            if status in (401, 403):
                failures.append(f"{where}: {status}, expected access")
            elif method == "GET" and status == 404:
                failures.append(f"{where}: 404 with ids that exist")
        elif role is None:
            if not (status == 302 and "/login" in location) and status != 401:
                failures.append(f"{where}: {status}, expected the login page")
        elif status != 403:
            failures.append(f"{where}: {status}, expected 403")
    assert not failures, "\n".join(failures)


def test_a_member_accountant_gets_nothing_of_another_member(
    app: Flask, client: FlaskClient, connection: Connection, db: Session, world: World
) -> None:
    _login(client, world, M)
    checked, failures = 0, []
    other_names = (world.other.code, world.other.name)
    for method, rule in _rules(app):
        if not _allowed(app, rule.endpoint, M, method):
            continue
        if (method, rule.endpoint, "scope") in KNOWN_DEFECTS:
            continue
        if any(name not in PARAMS and (rule.endpoint, name) not in ENDPOINT_PARAMS
               for name in rule.arguments):  # fmt: skip
            continue
        bound = MEMBER_BOUND.intersection(rule.arguments)
        if bound:
            url = _url(app, rule, db, world, "other", method)
            status, _, _ = _request(client, connection, method, url)
            checked += 1
            if status not in (403, 404):
                failures.append(f"{method} {url} ({rule.endpoint}): {status} for another member")
            own_url = _url(app, rule, db, world, "own", method)
            status, _, _ = _request(client, connection, method, own_url)
            if status in (403, 404) or status >= 500:
                failures.append(f"{method} {own_url} ({rule.endpoint}): {status} for their own")
        elif method == "GET":
            url = _url(app, rule, db, world, "own", method)
            status, _, body = _request(client, connection, method, url)
            shown = [name for name in other_names if name in body]
            if shown:
                failures.append(f"GET {url} ({rule.endpoint}) shows {shown}")
    assert checked >= 3, "the scope test found too few routes with a member's object"
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- role pairs (issue 13)

#: Roles marked cluster-wide: held beside the member accountant role, they lift its member
#: scope for the routes they grant by themselves (written out here, not imported: the test
#: states the policy).
CLUSTER_WIDE = {A, C, T}
PAIRS = list(itertools.combinations(list(Role), 2))


def _pair_user(db: Session, world: World, pair: tuple[Role, Role]) -> Any:
    user = User(email=f"{pair[0].value}+{pair[1].value}@cluster.test", name="Deux rôles",
                member_id=world.own.id if M in pair else None)
    user.role_set = set(pair)
    user.set_password(TEST_PASSWORD)
    db.add(user)
    db.flush()
    return user


def _scoped(app: Flask, endpoint: str, pair: tuple[Role, Role], method: str) -> bool:
    """Whether the member scope applies to this pair on this route: the pair holds the member
    accountant role and no cluster-wide role of the pair opens the route by itself."""
    if M not in pair:
        return False
    return not any(_allowed(app, endpoint, role, method) for role in CLUSTER_WIDE & set(pair))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(r.value for r in p))
def test_every_route_answers_each_pair_of_roles(
    app: Flask, client: FlaskClient, connection: Connection, db: Session, world: World, pair
) -> None:
    """A pair of roles opens what either role opens, and nothing else; where the member scope
    applies, another member's ids get 403/404 (GET and POST), the pages without an id never
    show the other member, and the user's own ids answer."""
    user = _pair_user(db, world, pair)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    failures, scoped_checks = [], 0
    other_names = (world.other.code, world.other.name)
    for method, rule in _rules(app):
        if any(name not in PARAMS and (rule.endpoint, name) not in ENDPOINT_PARAMS
               for name in rule.arguments):  # fmt: skip
            continue
        allowed = any(_allowed(app, rule.endpoint, role, method) for role in pair)
        where = f"{method} {rule.rule} ({rule.endpoint}) as {'+'.join(r.value for r in pair)}"
        scoped = allowed and _scoped(app, rule.endpoint, pair, method)
        bound = MEMBER_BOUND.intersection(rule.arguments)
        own_url = _url(app, rule, db, world, "own", method)
        status, _, body = _request(client, connection, method, own_url)
        if status >= 500:
            failures.append(f"{where}: {status}")
        elif not allowed:
            if status != 403:
                failures.append(f"{where}: {status}, expected 403")
            continue
        elif status in (401, 403) or (method == "GET" and status == 404):
            failures.append(f"{where}: {status} with their own ids, expected access")
        if not scoped:
            continue
        if method == "GET":  # their own pages, with or without an id, never name the other
            shown = [name for name in other_names if name in body]
            if shown:
                failures.append(f"{where} shows {shown}")
        if bound:
            scoped_checks += 1
            other_url = _url(app, rule, db, world, "other", method)
            status, _, _ = _request(client, connection, method, other_url)
            if status not in (403, 404):
                failures.append(f"{where}: {status} for another member's ids")
    if M in pair and not CLUSTER_WIDE & set(pair):
        assert scoped_checks >= 3, "too few routes with a member's object were checked"
    assert not failures, "\n".join(failures)
