"""The main screens of each role at 1280×800 and on a phone (390×844), for a person to look at.

Each demo role opens the pages it uses every day (dashboard, week grid, units, time entries,
allocation, invoices, ledger, audit log) on the demo cluster with an approved and invoiced
quarter. At both sizes: nothing wider than the window outside a scrolling container
(``horizontal_overflow``: a wide table scrolls in its own ``.table-wrap``), and a full-page
screenshot under ``<role>/<size>/<page>.png`` in the test's output folder. On the phone the
navigation folds behind « Menu »: opening it shows every link inside the window.

The README's pictures (``docs/``) come from the tests of those screens: ``grille-*.png`` of
``test_week_grid.py::test_week_grid_screenshots`` and ``portail-adherent-*.png`` of
``test_portal_keys.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounting.org import Role
from tests.browser.conftest import DESKTOP, LiveServer, demo_login, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}

#: (name, path) of the pages a role opens every day; one it may not open is left out.
PAGES = [
    ("accueil", "/accueil"),
    ("semaine", "/temps/semaine"),
    ("unites", "/temps/unites"),
    ("saisies", "/temps/saisies"),
    ("validation", "/temps/validation"),
    ("repartitions", "/repartition/"),
    ("repartition", "/repartition/{run_id}"),
    ("factures", "/factures/"),
    ("facture", "/factures/{invoice_id}"),
    ("comptabilite", "/comptabilite/"),
    ("journal", "/admin/journal"),
]

ROLES = [Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.TREASURER, Role.MEMBER_ACCOUNTANT]


def _settle(page: Any) -> None:
    """Wait for the charts (drawn by charts.js after load) before measuring or shooting."""
    if page.locator("table[data-chart]").count():
        page.wait_for_function(
            "[...document.querySelectorAll('table[data-chart]')]"
            ".every(t => t.dataset.chartDrawn)"
        )


def _menu_fits(page: Any) -> list[str]:
    """On a phone: « Menu » opens the navigation, and every link or group is inside the
    window (nothing cut, nothing to scroll sideways)."""
    toggle = page.locator(".menu-toggle")
    if not toggle.is_visible():
        return ["no visible « Menu » button"]
    toggle.click()
    entries = page.locator("#mainnav > ul > li")
    problems = []
    for index in range(entries.count()):
        box = entries.nth(index).bounding_box()
        if box is None or box["width"] == 0:
            problems.append(f"entry {index} hidden")
        elif box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 1:
            problems.append(f"entry {index} at {box['x']:.0f}..{box['x'] + box['width']:.0f}")
    toggle.click()
    return problems


@pytest.fixture
def values(require_demo: LiveServer) -> dict[str, Any]:
    from tests.browser.test_every_page import _arrange

    return _arrange(require_demo)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_daily_screens_fit_a_desktop_and_a_phone(
    page: Any, require_demo: LiveServer, values: dict[str, Any], role: Role, output_dir: Path
) -> None:
    server = require_demo
    demo_login(page, server, role)
    problems: dict[str, list[str]] = {}
    seen = []
    for name, path in PAGES:
        url = server.url(path.format(**values))
        if page.request.get(url, max_redirects=0).status != 200:
            continue  # a page this role may not open
        seen.append(name)
        for size_name, size in (("1280x800", DESKTOP), ("390x844", PHONE)):
            page.set_viewport_size(size)
            page.goto(url)
            _settle(page)
            out = horizontal_overflow(page)
            if size is PHONE:
                out += _menu_fits(page)
            if out:
                problems[f"{name} at {size_name}"] = out
            target = output_dir / size_name / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
    assert "accueil" in seen and len(seen) >= 3, seen
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))

