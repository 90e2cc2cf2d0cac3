"""Member scope, beyond the path: query strings and form fields naming another member.

Extends the role x route matrix of tests/foundation/test_access_matrix.py (same world, same
helpers), which checks every route with every role and anonymous, and another member's ids in
the URL path. A member accountant can also type another member's id or code into a filter
(``?adherent=``) or a form field (a work entry "for" another member); both are generated here:

- the query parameters are those the pages' own links and filter forms use (collected by
  crawling as the admin, who sees them all), each set to the other member's id and code, on
  every page the member accountant may open: the page must not show the other member;
- every form the member accountant is shown is posted with each member field set to the other
  member: nothing may be written for the other member (every table with a ``member_id``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from accounting.org import Role
from app.models import metadata
from tests.foundation.test_access_matrix import M, World, _allowed, _login, _request, _rules
from tests.fuzz.test_fuzz_forms import discover_forms
from tests.security.crawl import crawl, get_pages, links

#: Parameter names that name a member (in links, filters and forms of every area).
MEMBER_WORDS = ("adherent", "member", "membre", "client")


def _member_params(app: Flask, client: FlaskClient) -> set[str]:
    """Query parameters naming a member, as the pages' links and GET forms use them."""
    names: set[str] = set()
    for page in crawl(client, ["/accueil", *get_pages(app)], limit=250, per_endpoint=2).values():
        if not (page.is_html and page.status == 200):
            continue
        for href in links(page):
            names.update(k for k, _ in parse_qsl(urlsplit(href).query, keep_blank_values=True))
        for chunk in page.text.split("<select")[1:] + page.text.split("<input")[1:]:
            name = chunk.split('name="', 1)[1].split('"', 1)[0] if 'name="' in chunk else ""
            names.add(name)
    return {n for n in names if any(word in n.lower() for word in MEMBER_WORDS)}


def _member_rows(db: Session, member_id: int) -> dict[str, int]:
    db.expire_all()
    return {
        name: db.scalar(
            select(func.count()).select_from(table).where(table.c.member_id == member_id)
        )
        for name, table in metadata.tables.items()
        if "member_id" in table.c
    }


def test_a_filter_naming_another_member_shows_nothing_of_it(
    app: Flask, client: FlaskClient, connection: Connection, db: Session, world: World
) -> None:
    _login(client, world, Role.ADMIN)
    params = _member_params(app, client)
    assert params, "no member filter found: the pages changed, look at MEMBER_WORDS"
    client.post("/logout")
    _login(client, world, M)
    other = world.other
    shown, checked = [], 0
    for method, rule in _rules(app):
        if method != "GET" or rule.arguments or not _allowed(app, rule.endpoint, M, method):
            continue
        base = app.url_map.bind("localhost").build(rule.endpoint, {})
        for name in sorted(params):
            for value in (str(other.id), other.code):
                url = f"{base}?{urlencode({name: value})}"
                status, _, body = _request(client, connection, "GET", url)
                checked += 1
                assert status < 500, f"GET {url}: {status}"
                leaked = [text for text in (other.code, other.name) if text in body]
                if leaked:
                    shown.append(f"GET {url} shows {leaked}")
    assert checked >= 10
    assert shown == []


def test_a_form_posted_for_another_member_writes_nothing_for_it(
    app: Flask, client: FlaskClient, db: Session, world: World
) -> None:
    _login(client, world, M)
    forms = discover_forms(app, client)
    assert forms, "the member accountant is shown no form"
    other = world.other
    before = _member_rows(db, other.id)
    problems: list[str] = []
    posted = 0
    for form in forms:
        data: dict[str, Any] = {}
        member_fields = []
        for name, field in form.fields.items():
            if any(word in name.lower() for word in MEMBER_WORDS):
                member_fields.append(name)
                data[name] = str(other.id) if field.kind in ("select", "hidden") else other.code
            elif field.kind == "file":
                continue
            elif field.options:
                data[name] = field.options[-1]
            else:
                data[name] = field.value or "1"
        if not member_fields:
            continue
        for value in (str(other.id), other.code):
            data.update({name: value for name in member_fields})
            savepoint = db.connection().begin_nested()
            try:
                response = client.post(form.action, data=data)
                response.close()
                posted += 1
                if response.status_code >= 500:
                    problems.append(f"POST {form.action} {member_fields}={value}: 500")
                after = _member_rows(db, other.id)
                if after != before:
                    grown = {k: after[k] - before[k] for k in after if after[k] != before[k]}
                    problems.append(f"POST {form.action} {member_fields}={value} wrote {grown}")
            finally:
                if savepoint.is_active:
                    savepoint.rollback()
    assert posted >= 1
    assert problems == []
