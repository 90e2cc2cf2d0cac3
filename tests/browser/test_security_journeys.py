"""The login protections as a user meets them, in a real chromium: the lockout message after
five wrong passwords, the 429 page of the per-address limit, and the security headers the
browser receives. Screenshots are kept in the test's output folder.

(Written by the hardening area, issue 8; it lives here because the browser harness, one
chromium per session, is this folder's conftest.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounting.org import Role
from app.security import CONTENT_SECURITY_POLICY
from tests.browser.conftest import LiveServer, build_server, screenshot
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def guarded_server(fresh_db_url: str) -> Iterator[LiveServer]:
    """The app with the login limit on (3 attempts a minute), no demo: one user is enough."""
    server = build_server(
        fresh_db_url, demo=False, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_LOGIN="6 per minute",
    )
    server.start()
    yield server
    server.stop()


def _try(page: Any, server: LiveServer, email: str, password: str) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_five_wrong_passwords_lock_the_account_then_the_address_is_slowed(
    page: Any, guarded_server: LiveServer, output_dir: Path
) -> None:
    user = guarded_server.create_user(Role.TREASURER, email="tresorier@navigateur.test")
    for _ in range(4):
        _try(page, guarded_server, user.email, "mauvais-mot-de-passe")
        assert "E-mail ou mot de passe incorrect" in page.content()
    _try(page, guarded_server, user.email, "mauvais-mot-de-passe")
    assert "ce compte est verrouillé. Réessayez dans 15 minutes." in page.content()
    _try(page, guarded_server, user.email, TEST_PASSWORD)  # right, but locked
    assert "verrouillé" in page.content()
    screenshot(page, output_dir, "compte-verrouille")
    response = page.request.post(guarded_server.url("/login"), form={"email": "x", "password": "y"})
    assert response.status == 400  # no CSRF token: refused before counting
    _try(page, guarded_server, user.email, TEST_PASSWORD)  # the 7th attempt of the minute
    assert "Trop de tentatives" in page.content()
    screenshot(page, output_dir, "trop-de-tentatives")


def test_the_browser_receives_the_security_headers(
    page: Any, guarded_server: LiveServer
) -> None:
    response = page.goto(guarded_server.url("/login"))
    headers = response.all_headers()
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "HttpOnly" in headers["set-cookie"] and "SameSite=Lax" in headers["set-cookie"]
