"""The API's two pages in a real chromium: the tokens page (create a token, see it once, use
it, revoke it) and the Swagger UI documentation, served from our origin under the strict CSP
(a CSP refusal or a JavaScript error fails the test, via the ``page`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounting.org import Role
from tests.browser.conftest import LiveServer, build_server, screenshot
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def server(fresh_db_url: str) -> Iterator[LiveServer]:
    server = build_server(fresh_db_url, demo=False)
    server.start()
    yield server
    server.stop()


def test_a_user_creates_uses_and_revokes_a_token(
    page: Any, server: LiveServer, output_dir: Path
) -> None:
    user = server.create_user(Role.DEVELOPER, email="dev@navigateur.test")
    page.goto(server.url("/login"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="API").click()
    page.get_by_label("Nom du jeton").fill("Mon téléphone")
    page.get_by_label("Lecture seule").check()
    page.get_by_role("button", name="Créer le jeton").click()
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("mtl_")
    screenshot(page, output_dir, "jeton-cree")
    headers = {"Authorization": f"Bearer {secret}"}
    me = page.request.get(server.url("/api/v1/me"), headers=headers)
    assert me.status == 200 and me.json()["token_read_only"] is True
    page.goto(server.url("/compte/jetons/"))
    assert secret not in page.content()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Révoquer").click()
    confirm = page.locator("dialog[open] button", has_text="Révoquer").first
    confirm.wait_for(state="visible")  # the page's own confirmation dialog (app.js)
    with page.expect_navigation():
        confirm.click()
    assert "révoqué" in page.content()
    assert page.request.get(server.url("/api/v1/me"), headers=headers).status == 401


def test_the_documentation_renders_under_the_csp(
    page: Any, server: LiveServer, output_dir: Path
) -> None:
    page.goto(server.url("/api/v1/docs"))
    page.wait_for_selector(".opblock-tag", timeout=15_000)
    assert page.locator(".opblock").count() >= 20
    assert "Mutualise" in page.locator(".info .title").inner_text()
    screenshot(page, output_dir, "documentation-api")
