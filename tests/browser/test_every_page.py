"""Every HTML page of the app, looked at in chromium at 1280×800 and at 768×1024 (a tablet),
as a staff user holding every staff role and as a member accountant, on the demo cluster with
an approved and invoiced quarter and a stored run waiting.

For each page and size: no JavaScript error or CSP refusal (the ``page`` fixture), nothing
wider than the window outside a scrolling table (``horizontal_overflow``), and a full-page
screenshot kept in the test's output folder (``<who>/<size>/<endpoint>.png``) for a person to
look at. The pages are found in the URL map, so a new page is covered without editing this file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accounting.org import Role
from tests.browser.conftest import (
    DESKTOP,
    TABLET,
    LiveServer,
    demo_login,
    horizontal_overflow,
)
from tests.test_page_queries import STAFF_REFUSED, _pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _arrange(server: LiveServer) -> dict[str, Any]:
    """Keys, the last demo quarter allocated, approved and invoiced, a payment, and the
    quarter before it stored and waiting; returns a value for each URL argument."""
    from accounting.allocation.models import AllocationRun
    from accounting.costs import Cost
    from accounting.invoicing.models import Invoice
    from accounting.invoicing.services import prepare_invoices
    from accounting.ledger.models import Account, JournalEntry
    from accounting.org import Member, Service, User
    from accounting.periods import get_or_create_period
    from app.allocation.services import approve, store_period
    from app.demo import DEMO_MEMBER
    from app.invoices.usecases import issue_period, pay
    from tests.browser.test_journeys import _arrange_stored_run, _demo_quarter
    from timesheets.models import WorkEntry

    quarter, first_day = _demo_quarter(server)
    run_id = _arrange_stored_run(server, quarter, first_day)
    with server.session() as db:
        run = db.get(AllocationRun, run_id)
        approve(db, run, work_override="Temps de décembre relus")
        prepare_invoices(db, run.period)
        invoices = issue_period(db, run.period, issued_by="test")  # posted to the ledger too
        pay(db, member=invoices[0].member, paid_on=invoices[0].issue_date,
            amount=invoices[0].total_incl_tax, invoices=[invoices[0]])
        year, number = first_day.year, (first_day.month - 1) // 3
        previous = f"{year}-T{number}" if number else f"{year - 1}-T4"
        store_period(db, get_or_create_period(db, previous))
        _this_month(db)
        db.commit()
        member = db.scalars(select(Member).where(Member.code == DEMO_MEMBER)).one()
        own_invoice = db.scalars(select(Invoice).where(Invoice.member_id == member.id)).first()
        return {
            "invoice_id": own_invoice.id,
            "run_id": run_id,
            "member_id": member.id,
            "period_id": run.period_id,
            "user_id": db.scalars(select(User.id).order_by(User.id)).first(),
            "service_id": db.scalars(select(Service.id).order_by(Service.id)).first(),
            "entry_id": db.scalars(select(WorkEntry.id).where(WorkEntry.member_id == member.id)
                                   .order_by(WorkEntry.id.desc())).first(),
            "line_id": db.scalars(select(Cost.id).order_by(Cost.id)).first(),
            "kind": "cost",
            "service_code": "COMPTA",
            "member_code": member.code,
            "period_code": quarter,
            "code": quarter,
            "year": first_day.year,
            "fmt": "xlsx",
            "journal_entry_id": db.scalars(select(JournalEntry.id).order_by(JournalEntry.id))
            .first(),
            "document_id": db.scalars(select(Cost.id).order_by(Cost.id)).first(),
            "account_id": db.scalars(select(Account.id).order_by(Account.id)).first(),
        }


def _this_month(db: Any) -> None:
    """Some work of this month (the lists open on the current month): drafts and submitted
    entries of the development officer and the accountant, on several members."""
    from datetime import date, timedelta

    from accounting.org import Member, Service, User
    from app.demo import DEMO_USERS
    from timesheets.models import EntryStatus, UnitType, WorkEntry

    staff = {u.role: db.scalars(select(User).where(User.email == u.email)).one()
             for u in DEMO_USERS if u.role in (Role.DEVELOPER, Role.ACCOUNTANT)}
    services = {s.code: s for s in db.scalars(select(Service))}
    unit = db.scalars(select(UnitType).where(UnitType.service_id == services["COMPTA"].id)).first()
    members = db.scalars(select(Member).order_by(Member.code)).all()
    monday = date.today() - timedelta(days=date.today().weekday())
    for n, member in enumerate(members):
        day = monday + timedelta(days=n % 5)
        status = EntryStatus.SUBMITTED if n % 2 else EntryStatus.DRAFT
        db.add(WorkEntry(staff_id=staff[Role.DEVELOPER].id, day=day, minutes=60 + 15 * n,
                         member_id=member.id, service_id=services["DEVELOPPEMENT"].id,
                         status=status.value, note=f"Rendez-vous {member.name}"))
        db.add(WorkEntry(staff_id=staff[Role.ACCOUNTANT].id, day=day, minutes=45,
                         member_id=member.id, service_id=services["COMPTA"].id,
                         status=status.value, unit_type_id=unit.id if unit else None,
                         quantity=Decimal("4.000") if unit else None, note="Saisie"))
    db.add(WorkEntry(staff_id=staff[Role.DEVELOPER].id, day=monday, minutes=120,
                     member_id=None, service_id=services["DEVELOPPEMENT"].id,
                     status=EntryStatus.DRAFT.value, note="Étude micro-crèche"))


def _look(page: Any, server: LiveServer, role: Role, folder: Path, values: dict[str, Any]
          ) -> dict[str, list[str]]:
    """Visit every HTML page this user may open, at both sizes; returns the overflows."""
    demo_login(page, server, role)
    problems: dict[str, list[str]] = {}
    seen = 0
    for name, url in _pages(server.app, values):
        endpoint = name.split()[0]
        probe = page.request.get(server.url(url), max_redirects=0)
        kind = probe.headers.get("content-type", "")
        if role is not Role.MEMBER_ACCOUNTANT and probe.status != STAFF_REFUSED.get(endpoint, 200):
            problems[f"{endpoint} as staff"] = [f"HTTP {probe.status}"]
        if probe.status != 200 or not kind.startswith("text/html"):
            continue  # a download, or a page this role may not open
        seen += 1
        for size_name, size in (("1280x800", DESKTOP), ("768x1024", TABLET)):
            page.set_viewport_size(size)
            page.goto(server.url(url))
            if page.locator("table[data-chart]").count():
                page.wait_for_function(
                    "[...document.querySelectorAll('table[data-chart]')]"
                    ".every(t => t.dataset.chartDrawn)"
                )
            out = horizontal_overflow(page)
            if out:
                problems[f"{endpoint} at {size_name}"] = out
            target = folder / size_name / f"{endpoint}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
    assert seen > 0
    return problems


@pytest.fixture
def values(require_demo: LiveServer) -> dict[str, Any]:
    return _arrange(require_demo)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER_ACCOUNTANT], ids=["admin", "member"])
def test_every_page_fits_a_desktop_and_a_tablet(
    page: Any, require_demo: LiveServer, values: dict[str, Any], role: Role, output_dir: Path
) -> None:
    server = require_demo
    if role is Role.ADMIN:  # the admin also holds every other staff role here
        with server.session() as db:
            from accounting.org import User
            from app.demo import DEMO_USERS

            email = next(u.email for u in DEMO_USERS if u.role is Role.ADMIN)
            user = db.scalars(select(User).where(User.email == email)).one()
            user.role_set = {Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.TREASURER}
            db.commit()
    problems = _look(page, server, role, output_dir, values)
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))
