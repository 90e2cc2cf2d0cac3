"""The five journeys of the web experience, end to end in chromium, each as its user, on the
demo cluster served by the real app (tests/browser/conftest.py). Each ends with a screenshot
of its last screen in the test's output folder."""

from __future__ import annotations

import re
from datetime import date
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


def _csv(header: str, delimiter: str, rows: list[list[str]]) -> bytes:
    lines = [header] + [delimiter.join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_an_accountant_imports_a_file_with_an_error_reads_it_fixes_it_and_imports_it(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "timesheets.import_upload", "timesheets.import_template")
    email, _ = demo_login(page, server, Role.ACCOUNTANT)
    page.get_by_role("link", name="Saisie des temps").click()
    page.locator("nav.subnav").get_by_role("link", name="Importer").click()
    page.wait_for_url(re.compile(r"/temps/import"))

    # The accountant starts from the template the page offers.
    with page.expect_download() as download:
        page.get_by_role("link", name="Modèle CSV").click()
    template = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header = template.splitlines()[0]
    delimiter = ";" if ";" in header else ","
    columns = header.split(delimiter)
    assert columns[:5] == ["Date", "Intervenant", "Adhérent", "Service", "Durée"]

    day = date.today().strftime("%d/%m/%Y")

    def row(member: str, duration: str, note: str) -> list[str]:
        values = {"Date": day, "Intervenant": email, "Adhérent": member, "Service": "COMPTA",
                  "Durée": duration, "Commentaire": note}
        return [values.get(column, "") for column in columns]

    rows = [row("SERVEMPLOI", "1:30", "Saisie des factures"), row("AIDVS", "2h", "Paie"),
            row("TREMPLIN", "deux heures", "Rapprochement bancaire")]
    upload = page.locator("input[type=file]")
    upload.set_input_files(files=[{"name": "temps.csv", "mimeType": "text/csv",
                                   "buffer": _csv(header, delimiter, rows)}])
    page.get_by_role("button", name="Vérifier le fichier").click()

    # The error names the line (the header is line 1) and the column; nothing was saved.
    errors = page.get_by_role("alert")
    errors.wait_for()
    text = errors.inner_text()
    assert "rien n'a été enregistré" in text
    error_row = errors.locator("tbody tr").first.locator("td")
    assert error_row.nth(0).inner_text() == "4"
    assert "Durée" in error_row.nth(1).inner_text()
    screenshot(page, output_dir, "1-erreur")
    with server.session() as db:
        assert db.scalar(select(func.count()).select_from(WorkEntry)
                         .where(WorkEntry.note == "Paie")) == 0

    # Fixed file: the preview, then the import.
    page.get_by_role("link", name="Déposer un fichier corrigé").click()
    rows[2] = row("TREMPLIN", "2,5", "Rapprochement bancaire")
    fixed = _csv(header, delimiter, rows)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "temps.csv", "mimeType": "text/csv", "buffer": fixed}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("button", name=re.compile(r"Importer 3 saisie")).click()
    page.wait_for_selector(".flash-success")
    with server.session() as db:
        imported = db.execute(
            select(func.count(), func.sum(WorkEntry.minutes))
            .join(User, User.id == WorkEntry.staff_id)
            .where(User.email == email, WorkEntry.day == date.today())
        ).one()
    assert tuple(imported) == (3, 90 + 120 + 150)

    # The same file again adds nothing, and says so.
    page.goto(server.url_for("timesheets.import_upload"))
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "temps.csv", "mimeType": "text/csv", "buffer": fixed}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.wait_for_selector(".flash-warning")
    assert page.get_by_role("button", name=re.compile("Importer")).count() == 0
    screenshot(page, output_dir, "fin")
