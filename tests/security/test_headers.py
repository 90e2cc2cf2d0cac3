"""Security headers on every response, and no inline code a strict CSP would block."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from accounting.org import Role
from app.security import CONTENT_SECURITY_POLICY
from tests.security.crawl import crawl, get_pages, inline_code


def test_the_policy_allows_no_inline_code_and_no_framing() -> None:
    directives = dict(
        ([*part.split(" ", 1), ""])[:2] for part in CONTENT_SECURITY_POLICY.split("; ")
    )
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for url in ["/login", "/accueil", "/no-such-page"]:
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in response.headers  # only in production


def test_static_files_may_be_cached_but_keep_nosniff(client: FlaskClient) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_production_adds_hsts(make_app) -> None:
    app = make_app(
        MUTUALISE_ENV="production",
        SECRET_KEY="k" * 40,
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
    )
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_page_holds_code_the_policy_would_block(
    app: Flask, client: FlaskClient, login_as, make_member
) -> None:
    """Inline scripts, style attributes and on* handlers would be blocked by the browser (and
    the page broken): every script and style lives in app/static."""
    make_member("A", name="Alpha")
    anonymous = {url: client.get(url) for url in ["/login"]}
    for url, response in anonymous.items():
        assert inline_code(response.get_data(as_text=True)) == [], url
    login_as(*Role)
    pages = crawl(client, ["/accueil", *get_pages(app)])
    offending = {
        url: found
        for url, page in pages.items()
        if page.is_html and (found := inline_code(page.text))
    }
    assert offending == {}
    assert len(pages) >= 2
