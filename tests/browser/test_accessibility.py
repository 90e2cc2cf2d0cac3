"""Accessibility, checked in chromium: axe-core on every HTML page as each role, and a
navigation that fits on one line at 1280 px.

- **axe-core** comes from npm (``package.json`` at the root, ``npm ci``: ``node_modules`` is
  test-only and never served by the app). The app's CSP forbids inline and foreign scripts, so
  the test's browser context is opened with Playwright's ``bypass_csp=True``: the CSP the app
  sends is unchanged (``tests/security/test_headers.py`` checks it), only this test's browser
  ignores it to inject ``axe.min.js`` with ``add_script_tag``. No serious or critical violation
  is allowed (WCAG 2.x A and AA rules, plus axe's best practices).
- **Every page**: the GET pages of the URL map (the list ``tests/test_page_queries.py`` builds,
  with the values ``test_every_page`` arranges on the demo: an approved and invoiced quarter, a
  stored run waiting, this month's entries), as each demo role; the login page anonymously.
- **Navigation at 1280 px**: as the admin and the treasurer (the longest menus), the menu bar
  is one line high: its height is at most one link's height plus its padding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounting.org import Role
from tests.browser.conftest import DESKTOP, LiveServer, PageErrors, demo_login, login
from tests.conftest import IN_CI
from tests.test_page_queries import _pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Endpoints that answer an HTML fragment, not a page: axe checks them where they are inserted.
FRAGMENTS = {
    "timesheets.week_row": "the row the week grid fetches and inserts (checked on /temps/semaine)",
}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets run: WCAG 2.0/2.1/2.2 levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")


def _axe_source() -> str:
    if not AXE.exists():
        message = "axe-core is not installed: run `npm ci` at the root of the repository"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_page(browser: Any, page_errors: PageErrors) -> Any:
    """A tab at 1280×800 whose context ignores the app's CSP, to inject axe-core (test only)."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", bypass_csp=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("console", page_errors.record_console)
    tab.on("pageerror", page_errors.record_exception)
    yield tab
    context.close()
    assert not page_errors.messages, "JavaScript errors:\n" + "\n".join(page_errors.messages)


def axe_violations(page: Any, source: str) -> list[str]:
    """The serious and critical violations axe-core finds on the page, one line each."""
    page.add_script_tag(content=source)
    result = page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                             resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' +
                                            (n.failureSummary || '').split('\\n').slice(1, 2))}));
        }""",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {json.dumps(v['nodes'], ensure_ascii=False)}"
        for v in result if v["impact"] in BLOCKING
    ]


def _wait_for_charts(page: Any) -> None:
    if page.locator("table[data-chart]").count():
        page.wait_for_function(
            "[...document.querySelectorAll('table[data-chart]')].every(t => t.dataset.chartDrawn)"
        )


@pytest.fixture
def arranged(require_demo: LiveServer) -> dict[str, Any]:
    from tests.browser.test_every_page import _arrange

    return _arrange(require_demo)


@pytest.mark.parametrize(
    "role",
    [Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.TREASURER, Role.MEMBER_ACCOUNTANT],
    ids=lambda r: r.value,
)
def test_no_serious_axe_violation_on_any_page(
    axe_page: Any, require_demo: LiveServer, arranged: dict[str, Any], role: Role,
) -> None:
    server, page = require_demo, axe_page
    source = _axe_source()
    problems: dict[str, list[str]] = {}
    if role is Role.ADMIN:  # the anonymous page, once
        page.goto(server.url("/login"))
        if found := axe_violations(page, source):
            problems["auth.login"] = found
    demo_login(page, server, role)
    seen = 0
    for name, url in _pages(server.app, arranged):
        if name.split()[0] in FRAGMENTS:
            continue
        probe = page.request.get(server.url(url), max_redirects=0)
        if probe.status != 200 or not probe.headers.get("content-type", "").startswith(
            "text/html"
        ):
            continue  # a download, a redirect, or a page this role may not open
        page.goto(server.url(url))
        _wait_for_charts(page)
        seen += 1
        if found := axe_violations(page, source):
            problems[name] = found
    assert seen >= 5, f"only {seen} pages seen as {role.value}"
    assert not problems, f"{len(problems)} of {seen} pages:\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(problems.items())
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TREASURER], ids=lambda r: r.value)
def test_the_navigation_fits_on_one_line_at_1280_px(
    page: Any, require_demo: LiveServer, role: Role, output_dir: Path,
) -> None:
    server = require_demo
    demo_login(page, server, role)
    for path in ("/accueil", "/temps/saisies"):
        page.goto(server.url(path))
        sizes = page.evaluate(
            """() => {
              const nav = document.querySelector('#mainnav');
              const item = nav.querySelector(':scope > ul > li');
              const bar = document.querySelector('.topbar');
              return {nav: nav.getBoundingClientRect().height,
                      item: item.getBoundingClientRect().height,
                      bar: bar.getBoundingClientRect().height,
                      tops: [...nav.querySelectorAll(':scope > ul > li')]
                              .map(li => Math.round(li.getBoundingClientRect().top))};
            }"""
        )
        # one row of items: every item starts at the same height, the bar is one item high
        assert len(set(sizes["tops"])) == 1, sizes
        assert sizes["nav"] <= sizes["item"] + 2, sizes
        assert sizes["bar"] <= sizes["item"] + 40, sizes
    page.screenshot(path=str(output_dir / f"nav-{role.value}.png"))


def test_a_menu_group_opens_with_the_keyboard_and_without_javascript(
    page: Any, browser: Any, require_demo: LiveServer, output_dir: Path,
) -> None:
    server = require_demo
    demo_login(page, server, Role.TREASURER)
    keys = page.locator("#mainnav").get_by_role("link", name="Clés", exact=True)
    assert not keys.is_visible()
    page.locator("#mainnav summary", has_text="Répartition").focus()
    page.keyboard.press("Enter")
    assert keys.is_visible()
    page.screenshot(path=str(output_dir / "menu-open.png"))
    page.keyboard.press("Escape")
    assert not keys.is_visible()
    page.locator("#mainnav summary", has_text="Répartition").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first link of the group
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/repartition/cles")
    assert page.locator("#mainnav details.here summary").inner_text().startswith("Répartition")

    # without JavaScript: the <details> opens on its own
    from app.demo import DEMO_USERS

    user = next(u for u in DEMO_USERS if u.role is Role.TREASURER)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", java_script_enabled=False)
    try:
        bare = context.new_page()
        login(bare, server, user.email, user.password)
        link = bare.locator("#mainnav").get_by_role("link", name="Paiements", exact=True)
        assert not link.is_visible()
        bare.locator("#mainnav summary", has_text="Facturation").click()
        link.click()
        bare.wait_for_url("**/factures/paiements")
    finally:
        context.close()
