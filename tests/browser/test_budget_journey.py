"""The year's cash in chromium on the demo (DESIGN §5b): with ``mutualise demo --cash-cycle``
the treasurer reads the 2025 year of the shared premises (two revisions, four calls, budget
against actual), compares the three catch-up modes of a revision, votes the 2026 budget on the
page, issues the first call, and the demo member accountant finds it on its portal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounting.org import Role
from tests.browser.conftest import (
    LiveServer,
    build_server,
    demo_login,
    logout,
    require_endpoints,
    screenshot,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def cash_demo(fresh_db_url: str) -> Iterator[LiveServer]:
    """The app with ``mutualise demo --cash-cycle`` loaded, served for this test only."""
    from app.cli import cli

    server = build_server(fresh_db_url, demo=False)
    result = server.app.test_cli_runner().invoke(cli, ["demo", "--cash-cycle"])
    assert result.exit_code == 0, result.output
    server.demo_loaded = True
    server.start()
    yield server
    server.stop()


def test_the_treasurer_runs_a_year_of_calls(
    page: Any, cash_demo: LiveServer, output_dir: Path
) -> None:
    server = cash_demo
    require_endpoints(server, "budgets.index", "budgets.vote", "budgets.revision")

    # 1. The 2025 year: the vote and its June revision, four calls, budget against actual.
    demo_login(page, server, Role.TREASURER)
    page.goto(server.url_for("budgets.index", annee=2025))
    text = page.locator("main").inner_text()
    assert "Locaux partagés" in text and "Hausse du prix de l'énergie" in text
    for quarter in ("T1 2025", "T2 2025", "T3 2025", "T4 2025"):
        assert quarter in text
    assert page.locator("#budget-realise-2025").count() == 1
    screenshot(page, output_dir, "1-annee-2025")

    # 2. The revision page: the three ways side by side (every 2025 call is issued: the rest
    #    waits for the true-up, done in January 2026).
    page.goto(server.url_for("budgets.revision", year=2025))
    rows = page.locator("table tbody tr")
    assert rows.count() == 3
    assert "Étalé sur les appels restants (par défaut)" in rows.nth(2).inner_text()

    # 3. The 2026 budget voted on the page, then the first call issued.
    page.goto(server.url_for("budgets.vote", year=2026))
    page.get_by_label("Voté le").fill("2025-12-11")
    page.get_by_label("Voté par").fill("Assemblée générale")
    page.get_by_label(re.compile("Lignes")).fill(
        "Service;Type;Compte;Libellé;Montant\nLOCAUX;charge;613200;Loyer;36000\n"
        "LOCAUX;charge;606100;Énergie;oups\n")
    page.get_by_role("button", name="Enregistrer le vote").click()
    assert "Nombre illisible" in page.locator(".flash-error").inner_text()
    page.get_by_label(re.compile("Lignes")).fill(
        "Service;Type;Compte;Libellé;Montant\nLOCAUX;charge;613200;Loyer;36000\n"
        "LOCAUX;charge;606100;Énergie;6000\n")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le vote").click()
    assert "Budget 2026 enregistré" in page.locator(".flash-success").inner_text()
    page.get_by_label("Échéance").select_option("2026-T1")
    page.get_by_label("Date des appels").fill("2026-01-20")  # after the true-up (15 January)
    page.get_by_role("button", name="Émettre l'appel").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name=re.compile("Émettre")).click()
    assert "de fonds émis pour 2026-T1" in page.locator(".flash").first.inner_text()
    screenshot(page, output_dir, "2-appel-2026-T1")
    logout(page)

    # 4. The member accountant sees the call on its portal.
    demo_login(page, server, Role.MEMBER_ACCOUNTANT)
    page.goto(server.url_for("main.home"))
    portal = page.locator("#tableau-adherent").inner_text()
    assert "Appels de fonds 2026" in portal and "Appel de fonds" in portal
    screenshot(page, output_dir, "3-portail-adherent")
