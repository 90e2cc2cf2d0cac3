"""The treasurer corrects an invoiced quarter, end to end in chromium on the demo (DESIGN §4):
a cost found late is refused in the invoiced T3 2025 with the way out; the coordination reopens
the quarter with a reason; the cost is booked; the treasurer stores a new allocation, replaces
the approved one with a written reason and issues the differences — supplementary invoices
citing the invoices of October — and the quarter's documents add up to the new run."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accounting.org import Role
from tests.browser.conftest import (
    LiveServer,
    demo_login,
    logout,
    require_endpoints,
    screenshot,
    select_containing,
)

pytestmark = pytest.mark.browser
QUARTER = "2025-T3"


def _add_cost(page: Any, server: LiveServer) -> None:
    page.goto(server.url_for("allocation.cost_new"))
    select_containing(page.get_by_label("Nature"), "Charge")
    select_containing(page.get_by_label("Service"), "Comptabilité")
    page.get_by_label("Date").fill("2025-08-20")
    page.get_by_label("Montant (€)").fill("900,00")
    page.get_by_label("Compte (PCG)").fill("606400")
    page.get_by_label("Libellé").fill("Licence du logiciel de paie, facture reçue en retard")
    select_containing(page.get_by_label("Type de charge"), "Autre")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Enregistrer")).click()


def test_the_treasurer_corrects_an_invoiced_quarter_end_to_end(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "allocation.cost_new", "allocation.periods", "allocation.preview",
                      "allocation.run_approve", "invoices.issue")

    # 1. A cost of August found in November: T3 2025 is invoiced, the page says what to do.
    demo_login(page, server, Role.ACCOUNTANT)
    _add_cost(page, server)
    refusal = page.locator(".flash-error").inner_text()
    assert "T3 2025 est facturée" in refusal and "rouvrez T3 2025 avec un motif" in refusal
    screenshot(page, output_dir, "1-charge-refusee")
    logout(page)

    # 2. The coordination reopens the quarter for correction, with a reason.
    demo_login(page, server, Role.ADMIN)
    page.goto(server.url_for("allocation.periods"))
    row = page.locator("#periodes tbody tr", has_text="T3 2025")
    assert "facturée, verrouillée" in row.inner_text()
    row.get_by_text("Rouvrir…").click()
    row.get_by_label("Motif (inscrit au journal)").fill("Facture de logiciel d'août reçue tard")
    row.get_by_role("button", name="Rouvrir T3 2025").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name=re.compile("Rouvrir")).click()
    assert "rouverte" in page.locator(".flash-success").inner_text()
    logout(page)

    # 3. The accountant books the cost.
    demo_login(page, server, Role.ACCOUNTANT)
    _add_cost(page, server)
    assert "Charge enregistrée" in page.locator(".flash-success").inner_text()
    logout(page)

    # 4. The treasurer stores the new allocation and replaces the approved one.
    demo_login(page, server, Role.TREASURER)
    page.goto(server.url_for("allocation.preview", periode=QUARTER))
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer cette répartition").click()
    page.wait_for_url(re.compile(r"/repartition/\d+$"))
    page.get_by_label("Motif du remplacement (obligatoire)").fill(
        "Licence de paie d'août reçue après la facturation")
    page.get_by_role("button", name="Approuver").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name="Approuver").click()
    approved = page.locator(".flash-success").inner_text()
    assert "Elle remplace la répartition n°" in approved and "différences" in approved
    screenshot(page, output_dir, "2-repartition-remplacee")

    # 5. The differences are issued: supplementary invoices citing October's invoices.
    page.goto(server.url_for("invoices.issue", periode=QUARTER))
    with page.expect_navigation():
        page.get_by_role("button", name="Préparer les brouillons").click()
    drafts = page.locator("table.table").last.inner_text()
    assert "Facture complémentaire" in drafts and "corrige 2025-" in drafts
    assert "Avoir" not in drafts  # a cost added: every member owes more
    page.get_by_label("Date des factures").fill("2025-11-20")
    page.get_by_role("button", name=re.compile(r"^Émettre \d+ document")).click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name=re.compile("^Émettre")).click()
    issued = page.locator(".flash-success").inner_text()
    assert re.search(r"\d+ factures? et 0 avoir émis", issued), issued
    screenshot(page, output_dir, "fin")

    # The quarter's documents now add up to the new approved run, per member and service.
    from accounting.allocation.runs import approved_run_services
    from accounting.invoicing.differences import approved_amounts, documented_amounts
    from accounting.invoicing.locks import correction_open
    from accounting.org import Carrier
    from accounting.periods import Period

    with server.session() as db:
        period = db.scalars(select(Period).where(Period.kind == "quarter",
                                                 Period.start == date(2025, 7, 1))).one()
        carrier_member = db.scalar(select(Carrier.member_id))
        approved = approved_amounts(db, approved_run_services(db, period),
                                    exclude_member=carrier_member)
        assert {k: v for k, v in documented_amounts(db, period).items() if v} == {
            k: line.amount for k, line in approved.items() if line.amount
        }
        assert correction_open(db, period) is None  # locked again
