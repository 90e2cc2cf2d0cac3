"""The shared page behaviour of app.js and charts.js, on a page made for the test.

The page uses only what every area's templates use (base.html, the data- attributes documented
at the top of app.js), served by the real app with its CSP, so what passes here works on every
page that marks itself up the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, flash, redirect, render_template_string, request, url_for

from app.access import public
from tests.browser.conftest import LiveServer, build_server, screenshot

pytestmark = pytest.mark.browser

LIMIT = 2 * 1024 * 1024  # the server's upload limit for this page: 2 Mo

PAGE = (Path(__file__).parent / "components.html").read_text(encoding="utf-8")


def _install(app: Flask) -> None:
    from decimal import Decimal

    bp = Blueprint("essai", __name__)

    @bp.route("/_essai/composants")
    @public
    def components() -> Any:
        return render_template_string(
            PAGE, a1=Decimal("1234.56"), a2=Decimal("100.00"), b2=Decimal("0.44")
        )

    @bp.route("/_essai/envoi", methods=["POST"])
    @public
    def receive() -> Any:
        upload = request.files.get("fichier")
        size = len(upload.read()) if upload else 0
        how = "avec progression" if request.headers.get("X-Upload-Progress") else "normal"
        flash(f"Reçu {size} octets ({how}), action {request.form.get('action')}.", "success")
        return redirect(url_for("essai.components"))

    app.register_blueprint(bp)


@pytest.fixture
def component_server(fresh_db_url: str) -> Iterator[LiveServer]:
    server = build_server(fresh_db_url, demo=False, customise=_install, MAX_CONTENT_LENGTH=LIMIT)
    server.start()
    yield server
    server.stop()


def _open(page: Any, server: LiveServer) -> None:
    page.goto(server.url("/_essai/composants"))
    page.wait_for_function("window.Mutualise !== undefined")


def test_an_irreversible_button_asks_first_and_cancel_posts_nothing(
    page: Any, component_server: LiveServer, output_dir: Path
) -> None:
    _open(page, component_server)
    page.get_by_role("button", name="Émettre les factures").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    assert "Une facture émise ne peut plus être modifiée" in dialog.inner_text()
    # Cancel is the focused, default choice; Escape also cancels.
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.locator(".flash").count() == 0

    page.get_by_role("button", name="Émettre les factures").click()
    page.get_by_role("dialog").get_by_role("button", name="Annuler").click()
    assert page.locator(".flash").count() == 0

    page.get_by_role("button", name="Émettre les factures").click()
    screenshot(page, output_dir, "dialogue")
    page.get_by_role("dialog").get_by_role("button", name="Émettre les factures").click()
    page.wait_for_url(re.compile(r"/_essai/composants"))
    assert "action emettre" in page.locator(".flash-success").inner_text()


def test_a_button_without_confirmation_posts_at_once(
    page: Any, component_server: LiveServer
) -> None:
    _open(page, component_server)
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector(".flash-success")
    assert "action enregistrer" in page.locator(".flash-success").inner_text()


def test_a_large_upload_goes_through_xhr_and_the_answer_replaces_the_page(
    page: Any, component_server: LiveServer, output_dir: Path
) -> None:
    _open(page, component_server)
    size = 1_500_000
    page.set_input_files(
        "#fichier", files=[{"name": "gros.csv", "mimeType": "text/csv", "buffer": b"x" * size}]
    )
    page.get_by_role("button", name="Importer").click()
    page.wait_for_selector(".flash-success")
    text = page.locator(".flash-success").inner_text()
    assert f"Reçu {size} octets (avec progression), action importer." == text
    assert page.url.endswith("/_essai/composants")
    # The replaced page is alive: its scripts ran again (the confirmation still asks).
    page.get_by_role("button", name="Émettre les factures").click()
    assert page.get_by_role("dialog").is_visible()
    page.keyboard.press("Escape")
    screenshot(page, output_dir, "apres-envoi")


def test_a_file_above_the_limit_is_refused_inline_before_sending(
    page: Any, component_server: LiveServer
) -> None:
    _open(page, component_server)
    page.set_input_files(
        "#fichier",
        files=[{"name": "trop.csv", "mimeType": "text/csv", "buffer": b"x" * (LIMIT + 10)}],
    )
    page.get_by_role("button", name="Importer").click()
    error = page.locator(".field .error")
    assert "la taille maximale acceptée est 2,0 Mo" in error.inner_text()
    assert page.locator("#fichier").get_attribute("aria-invalid") == "true"
    assert page.locator(".flash").count() == 0


def test_the_chart_is_drawn_from_the_numbers_of_its_table(
    page: Any, component_server: LiveServer, output_dir: Path
) -> None:
    _open(page, component_server)
    page.wait_for_function("document.getElementById('repartition')._chart !== undefined")
    data = page.evaluate(
        """() => { const c = document.getElementById('repartition')._chart;
                   return {labels: c.data.labels, type: c.config.type,
                           stacked: c.options.scales.y.stacked,
                           series: c.data.datasets.map(d => [d.label, d.data])}; }"""
    )
    assert data["labels"] == ["Alpha", "Bêta"]
    assert data["stacked"] is True
    # The skipped Total column is not a series; the French text "2 000,50 €" is read too.
    assert data["series"] == [
        ["Comptabilité", [1234.56, 2000.5]],
        ["Développement", [100, 0.44]],
    ]
    canvas = page.locator("canvas[role=img]")
    assert "Les chiffres sont dans le tableau" in canvas.get_attribute("aria-label")
    assert page.locator("#repartition").is_visible()  # the table stays beside its chart
    screenshot(page, output_dir, "graphique")


def test_grid_totals_keyboard_moves_and_check_all(
    page: Any, component_server: LiveServer
) -> None:
    _open(page, component_server)
    page.locator("input[name=h1]").fill("7:30")
    page.locator("input[name=h1]").press("ArrowDown")
    assert page.evaluate("document.activeElement.name") == "h2"
    page.keyboard.type("1,5")
    assert page.locator("#total").inner_text() == "9 h"
    page.locator("input[name=h2]").fill("1h15")
    assert page.locator("#total").inner_text() == "8 h 45"

    page.get_by_label("Tout cocher").check()
    assert page.locator("input[name=ligne]:checked").count() == 2
    page.locator("input[name=ligne][value='1']").uncheck()
    assert page.evaluate("document.querySelector('[data-check-all]').indeterminate") is True
