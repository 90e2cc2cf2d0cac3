"""The five journeys of the web experience, end to end in chromium, each as its user, on the
demo cluster served by the real app (tests/browser/conftest.py). Each ends with a screenshot
of its last screen in the test's output folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accounting.org import Role, User
from tests.browser.conftest import (
    LiveServer,
    demo_login,
    require_endpoints,
    screenshot,
    select_containing,
)
from timesheets.models import EntryStatus, WorkEntry

pytestmark = pytest.mark.browser


def test_the_development_officer_logs_a_week_in_the_grid_and_submits_it(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "timesheets.week")
    email, _ = demo_login(page, server, Role.DEVELOPER)
    page.get_by_role("link", name="Saisir ma semaine").click()
    page.wait_for_url(re.compile(r"/temps/semaine"))

    # A line for a member, then a line of common work.
    select_containing(page.locator("select[name=nouvelle-adherent]"), "Serv'emploi")
    select_containing(page.locator("select[name=nouvelle-service]"), "développement")
    page.get_by_role("button", name="Enregistrer la semaine").click()
    page.wait_for_selector("input.cell")
    screenshot(page, output_dir, "1-ligne-ajoutee")
    row = page.locator("tbody tr", has=page.locator("input.cell")).first
    cells = row.locator("input.cell")
    cells.nth(0).fill("3:30")
    cells.nth(1).fill("2h")
    cells.nth(2).fill("1,5")
    assert row.locator("output").inner_text() == "7 h"  # the row total, computed as typed
    page.get_by_role("button", name="Enregistrer la semaine").click()
    page.wait_for_selector(".flash-success")

    page.get_by_role("button", name="Soumettre la semaine").click()
    dialog = page.get_by_role("dialog")
    assert "Soumettre les saisies en brouillon" in dialog.inner_text()
    dialog.get_by_role("button", name="Soumettre la semaine").click()
    page.wait_for_selector(".flash-success")

    with server.session() as db:
        staff_id = db.scalars(select(User.id).where(User.email == email)).one()
        rows = db.execute(
            select(WorkEntry.status, func.sum(WorkEntry.minutes), func.count())
            .where(WorkEntry.staff_id == staff_id, WorkEntry.import_key.is_(None))
            .group_by(WorkEntry.status)
        ).all()
    assert rows == [(EntryStatus.SUBMITTED.value, 420, 3)]
    screenshot(page, output_dir, "fin")
