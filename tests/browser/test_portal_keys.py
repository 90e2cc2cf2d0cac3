"""Browser journeys of issue 17 (items 3 and 4): the member portal on the demo cluster (its own
figures, a period selector, at desktop and phone widths) and the key editor's preview of a key
typed in French."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accounting.org import Role
from tests.browser.conftest import (
    LiveServer,
    demo_login,
    horizontal_overflow,
    screenshot,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _amount(text: str) -> float:
    return float(re.sub(r"[^\d,-]", "", text).replace(",", "."))


def test_the_member_portal_shows_its_own_figures_with_a_period_selector(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    from accounting.allocation.models import AllocationLine, AllocationRun, RunStatus
    from accounting.org import Member
    from app.demo import DEMO_MEMBER

    with server.session() as db:
        member_id = db.scalar(select(Member.id).where(Member.code == DEMO_MEMBER))
        own_total = db.scalar(
            select(func.sum(AllocationLine.amount))
            .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
            .where(AllocationLine.member_id == member_id,
                   AllocationRun.status == RunStatus.APPROVED.value)
        )
        cluster_total = db.scalar(
            select(func.sum(AllocationLine.amount))
            .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
            .where(AllocationRun.status == RunStatus.APPROVED.value)
        )
    assert own_total and cluster_total and own_total < cluster_total

    demo_login(page, server, Role.MEMBER_ACCOUNTANT)
    board = page.locator("#tableau-adherent")
    share = board.locator(".kpi", has_text="Ma part répartie").locator(".kpi-value")
    # The demo is dated 2025: the board opens on the months of its figures, not on an empty
    # year before today, and shows the member's own share (never the cluster's).
    assert _amount(share.inner_text()) > 0
    # ... beside the invoices billing those months, even those issued the month after.
    invoiced = board.locator(".kpi", has_text="Facturé").first.locator(".kpi-value")
    assert _amount(invoiced.inner_text()) > 0
    table = board.locator("#mem-repartition")
    assert table.locator("tbody tr").count() >= 1
    assert board.locator("#mem-documents tbody tr").count() >= 1
    screenshot(page, output_dir, "portail-adherent-1280")
    # What the README shows (docs/portail-adherent.png): the first screen at 1280×800.
    page.screenshot(path=str(output_dir / "portail-adherent-ecran.png"))

    # A year chosen from its buttons: every approved share of that year, and only its own.
    year = board.locator(".member-years a").last
    chosen = year.inner_text().strip()
    year.click()
    page.wait_for_url(re.compile(rf"du={chosen}-01"))
    assert f"janvier {chosen} – décembre {chosen}" in page.locator("#mem-title").inner_text()
    with server.session() as db:
        from accounting.periods import Period

        year_total = db.scalar(
            select(func.sum(AllocationLine.amount))
            .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
            .join(Period, Period.id == AllocationRun.period_id)
            .where(AllocationLine.member_id == member_id,
                   AllocationRun.status == RunStatus.APPROVED.value,
                   func.extract("year", Period.start) == int(chosen))
        ) or 0
    shown = _amount(board.locator(".kpi", has_text="Ma part répartie")
                    .locator(".kpi-value").inner_text())
    assert abs(shown - float(year_total)) < 0.005

    # The months typed in the form (works without JavaScript: a plain GET form).
    page.locator("#mem-du").fill(f"{chosen}-03")
    page.locator("#mem-au").fill(f"{chosen}-03")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(rf"du={chosen}-03&au={chosen}-03"))
    assert f"mars {chosen}" in page.locator("#mem-title").inner_text()

    page.goto(server.url("/accueil"))
    assert horizontal_overflow(page) == []
    page.set_viewport_size(PHONE)
    page.reload()
    assert horizontal_overflow(page) == []
    screenshot(page, output_dir, "portail-adherent-390")


def test_the_key_editor_previews_a_french_key_before_saving(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    from accounting.allocation.models import AllocationKey
    from accounting.org import Service

    with server.session() as db:
        keys_before = db.scalar(select(func.count()).select_from(AllocationKey))
        code = db.scalar(
            select(Service.code)
            .join(AllocationKey, AllocationKey.service_id == Service.id)
            .where(Service.overheads_by.is_(None))
            .order_by(Service.code)
            .limit(1)
        )
    demo_login(page, server, Role.ADMIN)
    page.goto(server.url(f"/repartition/cles/{code}"))
    field = page.locator("#text")
    # The key in force is written in French words.
    assert not re.search(r"\b(equal|hours|units|common_by)\b", field.input_value())
    # The builder writes French too.
    page.locator("#kb-pct-0").fill("20")
    page.locator("#kb-basis-0").select_option("equal")
    page.locator("#kb-pct-1").fill("80")
    page.locator("#kb-basis-1").select_option("hours")
    page.locator("#kb-common").select_option("equal")
    assert field.input_value() == "20 % part égale + 80 % heures, travail commun à parts égales"
    page.get_by_role("button", name="Aperçu").click()
    page.wait_for_load_state()
    preview = page.locator("#apercu-cle")
    assert preview.locator("tbody tr").count() >= 2
    assert "Clé proposée" in page.locator("main").inner_text()
    assert "20 % part égale + 80 % heures" in page.locator("main").inner_text()
    screenshot(page, output_dir, "apercu-cle")
    with server.session() as db:
        assert db.scalar(select(func.count()).select_from(AllocationKey)) == keys_before

    # A typo: the error in French, with a caret under the wrong word, and nothing saved.
    page.locator("#text").fill("20 % part égal + 80 % heures")
    page.get_by_role("button", name="Aperçu").click()
    error = page.locator("#text-err")
    assert "Base inconnue" in error.inner_text() or "attendu" in error.inner_text()
    assert "^" in error.locator("pre").inner_text()
