"""The five journeys of the web experience, end to end in chromium, each as its user, on the
demo cluster served by the real app (tests/browser/conftest.py). Each ends with a screenshot
of its last screen in the test's output folder."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accounting.org import Role, User
from tests.browser.conftest import (
    LiveServer,
    demo_login,
    nav_click,
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
    page.get_by_role("button", name="Ajouter la ligne").click()  # in place, no reload
    page.wait_for_selector("input.cell")
    screenshot(page, output_dir, "1-ligne-ajoutee")
    row = page.locator("tbody tr", has=page.locator("input.cell")).first
    cells = row.locator("input.cell")
    cells.nth(0).fill("3:30")
    cells.nth(1).fill("2h")
    cells.nth(2).fill("1,5")
    assert row.locator("output").inner_text() == "7 h"  # the row total, computed as typed
    page.get_by_role("button", name="Enregistrer la semaine", exact=True).click()
    page.wait_for_selector(".flash-success")  # saved in place (no reload)

    page.get_by_role("button", name="Soumettre la semaine").click()
    dialog = page.get_by_role("dialog")
    assert "soumettre les saisies en brouillon" in dialog.inner_text()
    with page.expect_navigation():  # the answer to this very post
        dialog.get_by_role("button", name="Soumettre la semaine").click()
    assert "3 saisies soumises" in page.locator(".flash-success").inner_text()

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
    nav_click(page, "Saisie des temps")
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
    with page.expect_navigation():  # the answer to this very post
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


def _demo_quarter(server: LiveServer) -> tuple[str, date]:
    """The last quarter with demo work (the demo generates whole years)."""
    with server.session() as db:
        last = db.scalar(select(func.max(WorkEntry.day)))
    assert last is not None
    number = (last.month - 1) // 3 + 1
    return f"{last.year}-T{number}", date(last.year, 3 * number - 2, 1)


def test_the_admin_sets_a_key_previews_and_stores_the_quarter_allocation(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "allocation.keys", "allocation.key_edit", "allocation.preview",
                      "allocation.store")
    quarter, first_day = _demo_quarter(server)
    demo_login(page, server, Role.ADMIN)

    def set_key(service_name: str, text: str) -> None:
        nav_click(page, "Clés")
        row = page.locator("#cles tbody tr", has_text=service_name)
        row.get_by_role("link").click()
        page.get_by_label("Clé", exact=True).fill(text)
        page.get_by_label("En vigueur à partir du").fill(first_day.isoformat())
        page.get_by_label("Convenue par").fill("Réunion mensuelle des adhérents")
        page.get_by_label("Aperçu sur la période").fill(quarter)
        page.get_by_role("button", name="Aperçu").click()
        page.locator("#apercu-cle").wait_for()  # the key's effect on the quarter, per member
        with page.expect_navigation():  # the answer to this very post
            page.get_by_role("button", name="Enregistrer cette clé").click()
        page.wait_for_selector(".flash-success")

    set_key("Comptabilité", "25% equal + 75% units")
    screenshot(page, output_dir, "1-cle-enregistree")
    with server.session() as db:
        from accounting.allocation.models import AllocationKey
        from accounting.org import Service

        keys = dict(db.execute(
            select(Service.code, AllocationKey.text).join(AllocationKey)
            .where(AllocationKey.valid_from == first_day)).all())
        assert keys["COMPTA"] == "25% equal + 75% units"
        missing = db.scalars(
            select(Service.name).where(
                Service.overheads_by.is_(None),
                ~Service.id.in_(select(AllocationKey.service_id)
                                .where(AllocationKey.valid_from <= first_day)))).all()
    for name in missing:  # the demo may leave a service without a key: the admin sets it too
        set_key(name, "30% equal + 70% hours, common_by=equal")

    nav_click(page, "Répartitions")
    page.get_by_label("Période").fill(quarter)
    page.get_by_role("button", name="Calculer").click()
    page.wait_for_url(re.compile(r"/repartition/apercu"))
    assert page.locator(".flash-error").count() == 0, page.locator(".flash-error").all_inner_texts()
    with page.expect_navigation():  # the answer to this very post
        page.get_by_role("button", name="Enregistrer cette répartition").click()
    page.wait_for_selector(".flash-success")

    with server.session() as db:
        from accounting.allocation.models import AllocationLine, AllocationRun

        run = db.scalars(select(AllocationRun).order_by(AllocationRun.id.desc())).first()
        assert run is not None and run.status == "stored" and run.period.code == quarter
        lines_total = db.scalar(select(func.sum(AllocationLine.amount))
                                .where(AllocationLine.run_id == run.id))
        assert lines_total == run.total  # the run hands out exactly its pools
    assert f"Répartition n° {run.id}" in page.locator("h1").inner_text()
    screenshot(page, output_dir, "fin")


def _arrange_stored_run(server: LiveServer, quarter: str, first_day: date) -> int:
    """What journey 3 does through the pages, done directly: a key for every service that
    lacks one, and the quarter's allocation stored (not approved)."""
    from accounting.allocation.models import AllocationKey
    from accounting.allocation.runs import set_key
    from accounting.org import Service
    from accounting.periods import get_or_create_period
    from app.allocation.services import store_period

    with server.session() as db:
        lacking = db.scalars(
            select(Service).where(
                Service.overheads_by.is_(None),
                ~Service.id.in_(select(AllocationKey.service_id)
                                .where(AllocationKey.valid_from <= first_day)))).all()
        for service in lacking:
            set_key(db, service, "30% equal + 70% hours, common_by=equal", first_day)
        run = store_period(db, get_or_create_period(db, quarter))
        db.commit()
        return run.id


def _xlsx(path: Path) -> Any:
    from openpyxl import load_workbook

    return load_workbook(path)


def test_the_treasurer_approves_the_run_the_invoices_are_issued_and_the_files_add_up(
    browser: Any, page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "allocation.run", "allocation.run_approve", "allocation.workbook",
                      "invoices.issue", "invoices.index", "invoices.download")
    quarter, first_day = _demo_quarter(server)
    run_id = _arrange_stored_run(server, quarter, first_day)

    # The treasurer finds the run waiting on the dashboard and approves it.
    demo_login(page, server, Role.TREASURER)
    waiting = page.locator("section#tableau-tresorier")
    waiting.get_by_role("link", name="Examiner").click()
    page.wait_for_url(re.compile(rf"/repartition/{run_id}$"))
    override = page.locator("textarea#work_override")  # December's entries are not validated
    if override.count():
        override.fill("Temps du trimestre relus avec l'équipe")
    page.get_by_role("button", name="Approuver").click()
    with page.expect_navigation():  # the answer to this very post
        page.get_by_role("dialog").get_by_role("button", name="Approuver").click()
    page.wait_for_selector(".flash-success")

    # The treasurer then issues the quarter's invoices, confirming the irreversible act.
    page.goto(server.url_for("invoices.issue", periode=quarter))
    with page.expect_navigation():  # the answer to this very post
        page.get_by_role("button", name="Préparer les brouillons").click()
    page.wait_for_selector(".flash-success")
    if page.locator(".flash-warning", has_text="4181").count():  # invoiced in a later year
        page.get_by_label(re.compile("Je confirme cette date")).check()
    issue = page.get_by_role("button", name=re.compile(r"^Émettre \d+ document"))
    issue.click()
    dialog = page.get_by_role("dialog")
    assert "ne pourront plus être modifiés" in dialog.inner_text()
    with page.expect_navigation():  # the answer to this very post
        dialog.get_by_role("button", name=re.compile(r"^Émettre")).click()
    page.wait_for_selector(".flash-success")

    # The treasurer downloads the allocation workbook and one invoice; both add up.
    from accounting.allocation.models import AllocationLine, AllocationRun
    from accounting.invoicing.models import Invoice

    with server.session() as db:
        run_total = db.get(AllocationRun, run_id).total
        invoice = db.scalars(select(Invoice).where(  # the quarter's (the demo's are older)
            Invoice.number.is_not(None), Invoice.period_id == db.get(AllocationRun, run_id)
            .period_id).order_by(Invoice.number)).first()
        member_total = db.scalar(select(func.sum(AllocationLine.amount)).where(
            AllocationLine.run_id == run_id, AllocationLine.member_id == invoice.member_id))
        number, excl_tax, incl_tax = (invoice.number, invoice.total_excl_tax,
                                      invoice.total_incl_tax)
    page.goto(server.url_for("main.home", periode=quarter))
    with page.expect_download() as download:
        page.get_by_role("link", name="Classeur de répartition (Excel)").click()
    workbook_path = output_dir / download.value.suggested_filename
    download.value.save_as(workbook_path)
    summary = _xlsx(workbook_path)["Synthèse"]
    header = [c.value for c in summary[4]]
    assert header[:2] == ["Code", "Adhérent"] and header[-1] == "Total"
    amounts = Decimal(0)
    for row in summary.iter_rows(min_row=5, values_only=True):
        if row[0] in (None, "Total"):
            break
        amounts += sum(Decimal(str(v)) for v in row[2:-1] if v is not None)
    expected = next(r for r in summary.iter_rows(values_only=True)
                    if r[0] and str(r[0]).startswith("Montant attendu"))
    assert amounts == run_total == Decimal(str(expected[2]))

    nav_click(page, "Factures")
    with page.expect_download() as download:
        page.get_by_label(f"Télécharger FACTURE-{number}.xlsx").click()
    invoice_path = output_dir / download.value.suggested_filename
    download.value.save_as(invoice_path)
    sheet = _xlsx(invoice_path)["Facture"]
    totals = {row[3]: row[5] for row in sheet.iter_rows(values_only=True) if row[3]}
    # The invoice re-invoices exactly the member's share of the run (before VAT).
    assert Decimal(str(totals["Total HT"])) == excl_tax == member_total
    assert Decimal(str(totals["Total TTC"])) == incl_tax
    assert sheet["D1"].value == f"FACTURE N° {number}"
    screenshot(page, output_dir, "fin")


def test_a_member_accountant_sees_only_their_invoices_and_is_refused_the_others(
    page: Any, require_demo: LiveServer, output_dir: Path
) -> None:
    server = require_demo
    require_endpoints(server, "invoices.index", "invoices.detail", "invoices.download",
                      "invoices.period_zip")
    from accounting.allocation.models import AllocationRun
    from accounting.invoicing.models import Invoice
    from accounting.invoicing.services import prepare_invoices
    from accounting.org import Member
    from app.allocation.services import approve
    from app.demo import DEMO_MEMBER
    from app.invoices.usecases import issue_period

    quarter, first_day = _demo_quarter(server)
    run_id = _arrange_stored_run(server, quarter, first_day)
    with server.session() as db:
        run = db.get(AllocationRun, run_id)
        approve(db, run, work_override="Temps de décembre relus")
        prepare_invoices(db, run.period)
        issue_period(db, run.period, issued_by="test")
        db.commit()
        every = db.execute(select(Invoice.id, Invoice.number, Member.code, Member.name,
                                  Invoice.period_id)
                           .join(Member, Member.id == Invoice.member_id)).all()
        rows = [r for r in every if r.period_id == run.period_id]  # the demo's are older
        own_count = sum(r.code == DEMO_MEMBER for r in every)
    own = [r for r in rows if r.code == DEMO_MEMBER]
    others = [r for r in rows if r.code != DEMO_MEMBER]
    assert len(own) == 1 and others

    demo_login(page, server, Role.MEMBER_ACCOUNTANT)
    home = page.locator("main").inner_text()
    assert own[0].number in home
    assert not [r.name for r in others if r.name in home]
    assert not [r.number for r in others if r.number in home]

    nav_click(page, "Factures")
    listed = page.locator("main table tbody tr")
    assert listed.count() == own_count  # theirs only: this quarter's and the demo's
    assert own[0].number in listed.first.inner_text()
    page.goto(server.url_for("invoices.index", adherent=others[0].id))  # a filter cannot widen
    assert not [r.number for r in others if r.number in page.locator("main").inner_text()]

    # Their own invoice opens and downloads.
    assert page.goto(server.url_for("invoices.detail", invoice_id=own[0].id)).status == 200
    own_file = page.request.get(server.url_for("invoices.download", invoice_id=own[0].id))
    assert own_file.status == 200 and own_file.body()[:2] == b"PK"

    # Another member's: not found (its existence is not even confirmed), and no period zip.
    for other in others[:3]:
        response = page.goto(server.url_for("invoices.detail", invoice_id=other.id))
        assert response.status == 404
        assert "Page introuvable" in page.locator("h1").inner_text()
        download = page.request.get(server.url_for("invoices.download", invoice_id=other.id))
        assert download.status == 404
    zip_response = page.request.get(server.url_for("invoices.period_zip", code=quarter))
    assert zip_response.status == 403
    page.goto(server.url_for("invoices.detail", invoice_id=others[0].id))
    screenshot(page, output_dir, "fin")
