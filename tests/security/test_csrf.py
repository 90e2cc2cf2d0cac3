"""CSRF: every state-changing route refuses a request without a valid token.

Generated from the URL map: a POST/PUT/PATCH/DELETE route added by any area is tested here
without editing this file.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounting.org import Role
from tests.conftest import TEST_PASSWORD
from tests.security.crawl import placeholder_url, state_changing_rules


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


def _login_with_token(client: FlaskClient, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token, "the login form carries a CSRF token"
    response = client.post(
        "/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 302


def test_there_are_state_changing_routes_to_protect(app: Flask) -> None:
    endpoints = {rule.endpoint for _, rule in state_changing_rules(app)}
    assert {"auth.login", "auth.logout", "auth.password"} <= endpoints


def test_every_state_changing_route_refuses_a_request_without_token(
    csrf_on: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user(*Role)
    _login_with_token(client, user.email)
    accepted = []
    for method, rule in state_changing_rules(csrf_on):
        url = placeholder_url(csrf_on, rule)
        response = client.open(url, method=method, data={"x": "1"})
        if response.status_code != 400 or "Formulaire expiré" not in response.get_data(
            as_text=True
        ):
            accepted.append(f"{method} {url} -> {response.status_code}")
        # A forged token is refused the same way.
        response = client.open(url, method=method, data={"csrf_token": "forged"})
        if response.status_code != 400:
            accepted.append(f"{method} {url} with a forged token -> {response.status_code}")
    assert accepted == []


def test_anonymous_state_changing_requests_are_refused_too(
    csrf_on: Flask, client: FlaskClient
) -> None:
    for method, rule in state_changing_rules(csrf_on):
        response = client.open(placeholder_url(csrf_on, rule), method=method)
        assert response.status_code == 400, f"{method} {rule.rule}"


def test_a_form_with_its_token_goes_through(csrf_on: Flask, client: FlaskClient, make_user) -> None:
    user = make_user(Role.ADMIN)
    _login_with_token(client, user.email)
    assert client.get("/accueil").status_code == 200


def test_no_get_request_changes_anything(app: Flask, client: FlaskClient, login_as, db) -> None:
    """CSRF protection covers POST only: a GET that wrote would be a hole. Crawl every page
    as a user holding every role and check no table changed size."""
    from sqlalchemy import func, select

    from app.models import metadata
    from tests.security.crawl import crawl, get_pages

    login_as(*Role)

    def sizes() -> dict[str, int]:
        return {
            name: db.scalar(select(func.count()).select_from(table))
            for name, table in metadata.tables.items()
            if name != "rate_limits"
        }

    before = sizes()
    pages = crawl(client, ["/accueil", *get_pages(app)])
    assert len(pages) >= 2
    assert sizes() == before
