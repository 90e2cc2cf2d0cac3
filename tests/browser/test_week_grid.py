"""The week grid in chromium: rows added, filled and removed in place, one save, nothing typed
lost on a refused save, activities filtered by service, the usual service preselected, sent-back
cells marked; and the same grid without JavaScript. Clicks and page loads are counted."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accounting.org import Role, Service, User
from app.demo import DEMO_USERS
from tests.browser.conftest import (
    LiveServer,
    demo_login,
    horizontal_overflow,
    screenshot,
    select_containing,
)
from timesheets import services
from timesheets.models import Activity, EntryStatus, WorkEntry
from timesheets.services import EntryData

pytestmark = pytest.mark.browser

#: A week of its own, after the demo's history, in an open period.
MONDAY = date.today() - timedelta(days=date.today().weekday()) + timedelta(days=14)


class Counter:
    """The clicks a user makes and the pages the browser loads, counted as the test acts."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.clicks = 0
        self.loads = 0
        page.on("load", self._loaded)

    def _loaded(self, _page: Any) -> None:
        self.loads += 1

    def click(self, locator: Any) -> None:
        self.clicks += 1
        locator.click()

    def choose(self, select: Any, label: str) -> None:
        """Choose an option with the mouse: open the list, click the option (two clicks)."""
        self.clicks += 2
        select.select_option(label=label)


def _staff_id(server: LiveServer, role: Role) -> int:
    email = next(u.email for u in DEMO_USERS if u.role is role)
    with server.session() as db:
        return db.scalars(select(User.id).where(User.email == email)).one()


def _week_url(server: LiveServer) -> str:
    return server.url(f"/temps/semaine?jour={MONDAY.isoformat()}")


def _member_labels(page: Any, count: int) -> list[str]:
    options = page.locator("select[name=nouvelle-adherent] option").all()
    labels = [o.inner_text().strip() for o in options if o.get_attribute("value")]
    return labels[:count]


def _type_week(page: Any, values: list[str]) -> None:
    """Type the days from the focused cell on, Tab between them (keyboard only)."""
    for value in values:
        page.keyboard.type(value)
        page.keyboard.press("Tab")


def _add_rows(page: Any, typed: dict[str, list[str]]) -> None:
    """Add a row per member in place and type its days."""
    for member, values in typed.items():
        page.locator("select[name=nouvelle-adherent]").select_option(label=member)
        page.get_by_role("button", name="Ajouter la ligne").click()
        page.locator("tr.grid-row", has_text=member).wait_for()
        _type_week(page, values)


def test_a_week_of_five_members_costs_at_most_25_clicks_and_one_page_load(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    demo_login(page, server, Role.DEVELOPER)
    count = Counter(page)
    page.goto(_week_url(server))
    # The development officer's own service is preselected (their latest entries), not COMPTA.
    chosen = page.locator("select[name=nouvelle-service] option:checked").inner_text()
    assert "développement" in chosen.lower()
    # Only the activities of that service are offered.
    offered = [
        o.inner_text() for o in page.locator("select[name=nouvelle-activite] option").all()
        if o.is_enabled() and o.get_attribute("value")
    ]
    assert offered and all(label.startswith("DEVELOPPEMENT ›") for label in offered)
    count.choose(page.locator("select[name=nouvelle-activite]"), offered[1])
    members = _member_labels(page, 5)
    assert len(members) == 5
    for member in members:
        count.choose(page.locator("select[name=nouvelle-adherent]"), member)
        count.click(page.get_by_role("button", name="Ajouter la ligne"))
        row = page.locator("tr.grid-row", has_text=member)
        row.wait_for()
        # The new row's first day has the focus: the durations are typed straight away.
        assert page.evaluate("document.activeElement.classList.contains('col-0')")
        _type_week(page, ["1h30", "1:30", "1,5", "90min", "1.5"])
        assert row.locator("output").inner_text() == "7 h 30"
    screenshot(page, output_dir, "1-cinq-lignes")
    count.click(page.get_by_role("button", name="Enregistrer la semaine", exact=True))
    page.locator(".flash-success", has_text="Semaine enregistrée").wait_for()
    assert count.clicks == 18 and count.clicks <= 25
    assert count.loads == 1  # the grid itself: rows and the save never reloaded the page
    assert page.locator("tr.grid-row").count() == 5
    with server.session() as db:
        staff = _staff_id(server, Role.DEVELOPER)
        saved = db.execute(
            select(WorkEntry.member_id, WorkEntry.minutes).where(
                WorkEntry.staff_id == staff,
                WorkEntry.day.between(MONDAY, MONDAY + timedelta(days=6)),
            )
        ).all()
    assert len(saved) == 25 and {m for _, m in saved} == {90}
    assert len({member for member, _ in saved}) == 5
    screenshot(page, output_dir, "2-enregistree")


def test_a_refused_save_keeps_every_row_and_value_and_the_grid_does_not_move(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    demo_login(page, server, Role.DEVELOPER)
    count = Counter(page)
    page.goto(_week_url(server))
    members = _member_labels(page, 3)
    typed = {
        members[0]: ["2", "", "3h"], members[1]: ["1:15", "abc", ""], members[2]: ["", "", "4"]
    }
    _add_rows(page, typed)
    header = page.locator("table.week thead th").nth(4).bounding_box()
    page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
    page.locator(".error-summary").wait_for()
    assert "Durée illisible « abc »" in page.locator(".error-summary").inner_text()
    # Every row and every value is still there, the refused cell marked and named in words.
    for member in members:
        cells = page.locator("tr.grid-row", has_text=member).locator("input.cell")
        assert [cells.nth(n).input_value() for n in range(3)] == typed[member]
    bad = page.locator("tr.grid-row", has_text=members[1]).locator("input.cell").nth(1)
    assert bad.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.value") == "abc"
    note = page.locator("tr.row-note").inner_text()
    assert "Mardi : Durée illisible « abc »" in note
    # The message sits under the row, not in the cell: the columns have not moved.
    after = page.locator("table.week thead th").nth(4).bounding_box()
    assert abs(after["x"] - header["x"]) <= 1 and abs(after["width"] - header["width"]) <= 1
    assert horizontal_overflow(page) == []
    with server.session() as db:
        staff = _staff_id(server, Role.DEVELOPER)
        stored = db.scalars(
            select(WorkEntry.id).where(
                WorkEntry.staff_id == staff, WorkEntry.day >= MONDAY
            )
        ).all()
    assert stored == []  # all or nothing
    screenshot(page, output_dir, "1-refusee")
    bad.fill("0,5")
    page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
    page.locator(".flash-success", has_text="Semaine enregistrée").wait_for()
    assert count.loads == 1
    with server.session() as db:
        minutes = sorted(
            db.scalars(
                select(WorkEntry.minutes).where(
                    WorkEntry.staff_id == staff, WorkEntry.day >= MONDAY
                )
            )
        )
    assert minutes == [30, 75, 120, 180, 240]
    # A row removed in place: its drafts are deleted by the next save.
    row = page.locator("tr.grid-row", has_text=members[2])
    row.get_by_role("button", name=re.compile("Retirer")).click()
    assert page.locator("tr.grid-row").count() == 2
    page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
    page.locator(".flash-success", has_text="1 ligne retirée").wait_for()
    with server.session() as db:
        minutes = sorted(
            db.scalars(
                select(WorkEntry.minutes).where(
                    WorkEntry.staff_id == staff, WorkEntry.day >= MONDAY
                )
            )
        )
    assert minutes == [30, 75, 120, 180]
    assert count.loads == 1


def test_without_javascript_added_rows_and_typed_values_all_stay(
    browser: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR", java_script_enabled=False
    )
    page = context.new_page()
    try:
        demo_login(page, server, Role.DEVELOPER)
        page.goto(_week_url(server))
        members = _member_labels(page, 3)
        for n, member in enumerate(members):
            page.locator("select[name=nouvelle-adherent]").select_option(label=member)
            page.get_by_role("button", name="Ajouter la ligne").click()
            page.locator("tr.grid-row", has_text=member).wait_for()
            page.locator("tr.grid-row", has_text=member).locator("input.cell").first.fill(
                f"{n + 1}h"
            )
        # The rows added before the last one are still there, with their values.
        for n, member in enumerate(members):
            cell = page.locator("tr.grid-row", has_text=member).locator("input.cell").first
            assert cell.input_value() == f"{n + 1}h"
        # An activity of another service: refused when the row is added, in words.
        select_containing(page.locator("select[name=nouvelle-service]"), "COMPTA")
        select_containing(page.locator("select[name=nouvelle-activite]"), "DEVELOPPEMENT › Anim")
        page.get_by_role("button", name="Ajouter la ligne").click()
        assert "n'est pas une activité du service" in page.locator("#new-row-message").inner_text()
        page.locator("tr.grid-row", has_text=members[1]).locator("input.cell").nth(1).fill("zz")
        page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
        assert "Durée illisible « zz »" in page.locator(".error-summary").inner_text()
        for n, member in enumerate(members):
            cell = page.locator("tr.grid-row", has_text=member).locator("input.cell").first
            assert cell.input_value() == f"{n + 1}h"
        page.locator("tr.grid-row", has_text=members[1]).locator("input.cell").nth(1).fill("")
        page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
        assert "Semaine enregistrée" in page.locator(".flash-success").inner_text()
        assert page.locator("tr.grid-row").count() == 3
        screenshot(page, output_dir, "sans-javascript")
    finally:
        context.close()


def test_a_sent_back_cell_is_marked_with_the_reviewers_comment(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    staff = _staff_id(server, Role.DEVELOPER)
    with server.session() as db:
        developer = db.get(User, staff)
        admin = db.scalars(select(User).where(User.email == DEMO_USERS[0].email)).one()
        service = db.scalars(select(Service).where(Service.code == "DEVELOPPEMENT")).one()
        activity = db.scalars(
            select(Activity).where(Activity.service_id == service.id)
        ).first()
        entry = services.create_entry(
            db, developer, EntryData(MONDAY + timedelta(days=1), service.id, 120, None,
                                     activity.id)
        ).entries[0]
        services.submit_week(db, developer, MONDAY)
        services.send_back(db, admin, [entry.id], "Préciser l'adhérent concerné")
        db.commit()
        assert entry.status == EntryStatus.DRAFT
    demo_login(page, server, Role.DEVELOPER)
    page.goto(_week_url(server))
    cell = page.locator("td.sent-back input.cell")
    assert cell.count() == 1 and cell.input_value() == "2h"
    assert cell.get_attribute("title") == "Renvoyée : Préciser l'adhérent concerné"
    note = page.locator("tr.row-note").inner_text()
    assert "Renvoyée par la validation (mardi" in note
    assert "« Préciser l'adhérent concerné »" in note
    assert page.locator("td.sent-back .mark").inner_text() == "↩"  # not colour alone
    # Another service chosen: its activities, and only them, are offered.
    select_containing(page.locator("select[name=nouvelle-service]"), "COMPTA")
    offered = [
        o.inner_text() for o in page.locator("select[name=nouvelle-activite] option").all()
        if o.is_enabled() and o.get_attribute("value")
    ]
    assert offered and all(label.startswith("COMPTA ›") for label in offered)
    screenshot(page, output_dir, "renvoyee")


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("bureau", {"width": 1280, "height": 800}), ("telephone", {"width": 390, "height": 844})],
)
def test_week_grid_screenshots(
    browser: Any, require_demo: LiveServer, output_dir: Path, name: str, viewport: dict
) -> None:
    """The grid with rows, a refused cell and a sent-back cell, at desktop and phone sizes
    (the PNGs are looked at; the page itself must not scroll sideways)."""
    server = require_demo
    staff = _staff_id(server, Role.DEVELOPER)
    with server.session() as db:
        developer = db.get(User, staff)
        admin = db.scalars(select(User).where(User.email == DEMO_USERS[0].email)).one()
        service = db.scalars(select(Service).where(Service.code == "DEVELOPPEMENT")).one()
        entry = services.create_entry(
            db, developer, EntryData(MONDAY + timedelta(days=2), service.id, 150, None)
        ).entries[0]
        services.submit_week(db, developer, MONDAY)
        services.send_back(db, admin, [entry.id], "Rattacher à un adhérent")
        db.commit()
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    try:
        demo_login(page, server, Role.DEVELOPER)
        page.goto(_week_url(server))
        members = _member_labels(page, 3)
        typed = (["3h", "2h", "", "1h30"], ["1h30", "2", "1:45"], ["", "4h", "", "", "2,5"])
        _add_rows(page, dict(zip(members, typed, strict=True)))
        page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
        page.locator(".flash-success").wait_for()
        assert horizontal_overflow(page) == []
        # The README's picture: the grid saved, a sent-back cell marked.
        page.locator("#contenu").screenshot(path=str(output_dir / f"grille-{name}.png"))
        bad = page.locator("tr.grid-row", has_text=members[1]).locator("input.cell").nth(4)
        bad.fill("x")
        page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
        page.locator(".error-summary").wait_for()
        assert horizontal_overflow(page) == []
        screenshot(page, output_dir, f"semaine-{name}")
    finally:
        context.close()


def test_units_show_as_saved_and_a_colleagues_entry_opens_read_only(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    demo_login(page, server, Role.ACCOUNTANT)
    with server.session() as db:
        compta = db.scalars(select(Service.id).where(Service.code == "COMPTA")).one()
    page.goto(server.url(f"/temps/unites?service={compta}&jour={MONDAY.isoformat()}"))
    rows = page.locator("tbody tr")
    first = rows.nth(0).locator("input").nth(0)
    second = rows.nth(1).locator("input").nth(1)
    first.fill("6")
    second.fill("2,5")
    page.get_by_role("button", name="Enregistrer les quantités").click()
    assert page.locator(".flash-success").inner_text() == "2 quantités enregistrées."
    # What was saved is shown, with its totals: no empty grid inviting a second entry.
    assert first.input_value() == "6" and second.input_value() == "2,5"
    totals = [o.inner_text() for o in page.locator("tfoot output").all()]
    assert totals == ["6,00", "2,50"] + ["0,00"] * (len(totals) - 2)
    page.get_by_role("button", name="Enregistrer les quantités").click()
    assert page.locator(".flash-info").inner_text() == "Aucune quantité modifiée."
    screenshot(page, output_dir, "unites-enregistrees")

    # A colleague's entry (the development officer's): « Voir », and a form that is read-only.
    developer = _staff_id(server, Role.DEVELOPER)
    page.goto(server.url(f"/temps/saisies?intervenant={developer}&du=&au="))
    links = page.locator("table a[href*='/temps/saisies/']")
    assert links.count() > 0
    assert {text.strip() for text in links.all_inner_texts()} == {"Voir"}
    links.first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Voir une saisie"
    assert "en lecture seule" in page.locator(".flash-info").inner_text()
    assert page.locator("#duree").is_disabled() and page.locator("#service").is_disabled()
    assert page.get_by_role("button", name="Enregistrer").count() == 0
    assert page.get_by_role("button", name="Supprimer").count() == 0
    screenshot(page, output_dir, "saisie-collegue")
