"""No page issues more SQL statements when the data grows.

Every GET page of the app (found in the URL map, so a new page is covered without editing this
file) is requested as a staff user holding every staff role, and again as a member accountant,
on the cluster of tests/cluster_data.py with 4 members and then with 40 (ten times the members,
the work entries, the allocation lines, the invoices and the payments). A page whose statement
count differs between the two has a query per row somewhere (an N+1): the test names it.

Statements are counted with a ``before_cursor_execute`` listener on the app's engine, on the
second request of each page (the first one warms caches that are not about the data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from accounting.costs import Cost
from accounting.ledger.models import Account, JournalEntry
from accounting.org import Role, User
from app import create_app, page_walk
from app.database import make_engine
from app.models import metadata
from tests.cluster_data import Cluster, build_cluster
from tests.conftest import TEST_PASSWORD, fresh_database_url
from timesheets.models import WorkEntry

SMALL = 4
STAFF_ROLES = {Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.TREASURER}
#: Pages a staff user holding every staff role is refused on purpose.
STAFF_REFUSED = {"admin.my_figures": 403}
#: Pages left out, and why (the shared list of app.page_walk).
SKIPPED = page_walk.SKIPPED


@dataclass
class Measure:
    status: int
    statements: int


def _argument_values(cluster: Cluster, db: Session) -> dict[str, Any]:
    """A value for each URL argument name the pages use, taken from the cluster."""
    entry_id = db.scalar(
        select(WorkEntry.id).where(WorkEntry.member_id == cluster.members[0].id)
        .order_by(WorkEntry.id)
    )
    return {
        "invoice_id": cluster.invoices[0].id,
        "run_id": cluster.runs[0].id,
        "member_id": cluster.members[0].id,
        "period_id": cluster.past.id,
        "user_id": cluster.users[Role.DEVELOPER].id,
        "service_id": cluster.services["COMPTA"].id,
        "entry_id": entry_id,
        "line_id": db.scalar(select(Cost.id).order_by(Cost.id)),
        "kind": "cost",
        "service_code": "COMPTA",
        "member_code": cluster.members[0].code,
        "period_code": cluster.past.code,
        "code": cluster.past.code,
        "year": cluster.past.start.year,
        "fmt": "xlsx",
        "journal_entry_id": db.scalar(select(JournalEntry.id).order_by(JournalEntry.id)),
        "document_id": db.scalar(select(Cost.id).order_by(Cost.id)),
        "account_id": db.scalar(select(Account.id).order_by(Account.id)),
    }


def _pages(app: Flask, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Every GET page of the URL map (``app.page_walk.pages``), failing the test on a page
    whose arguments have no value."""
    try:
        return page_walk.pages(app, values)
    except page_walk.MissingValue as missing:
        pytest.fail(f"{missing} (_argument_values)")


def _measure(app: Flask, engine: Engine, email: str, pages: list[tuple[str, str]]
             ) -> dict[str, Measure]:
    counter = {"n": 0}

    def count(*args: Any) -> None:
        counter["n"] += 1

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = {}
        for name, url in pages:
            with client.get(url) as warm_up:  # closed: downloads hold temporary files
                warm_up.get_data()
            counter["n"] = 0
            with client.get(url) as response:
                response.get_data()  # streamed downloads query while they are read
                result[name] = Measure(response.status_code, counter["n"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result


def _counts_at(database_url: str, tmp: Path, members: int) -> dict[str, dict[str, Measure]]:
    from tests.browser.conftest import live_config

    urls = fresh_database_url(database_url, tmp)
    url = next(urls)
    engine = make_engine(url)
    try:
        metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as db:
            db.info["actor_label"] = "test"
            cluster = build_cluster(db, members=members)
            staff = User(email="tout@cluster.test", name="Toutes fonctions")
            staff.role_set = STAFF_ROLES
            staff.set_password(TEST_PASSWORD)
            db.add(staff)
            db.commit()
            values = _argument_values(cluster, db)
            member_email = cluster.users[Role.MEMBER_ACCOUNTANT].email
        app = create_app(live_config(url, WTF_CSRF_ENABLED=False))
        app_engine = app.extensions["mutualise.engine"]
        pages = _pages(app, values)
        try:
            return {
                "staff": _measure(app, app_engine, staff.email, pages),
                "member_accountant": _measure(app, app_engine, member_email, pages),
            }
        finally:
            app_engine.dispose()
    finally:
        engine.dispose()
        urls.close()


@pytest.fixture(scope="module")
def counts(database_url: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[int, dict[str, dict[str, Measure]]]]:
    tmp = tmp_path_factory.mktemp("queries")
    yield {scale: _counts_at(database_url, tmp, SMALL * scale) for scale in (1, 10)}


@pytest.mark.slow
@pytest.mark.parametrize("who", ["staff", "member_accountant"])
def test_no_page_issues_more_statements_with_ten_times_the_data(
    counts: dict[int, dict[str, dict[str, Measure]]], who: str
) -> None:
    small, large = counts[1][who], counts[10][who]
    assert small.keys() == large.keys()
    grown = {
        page: f"{small[page].statements} -> {large[page].statements} statements"
        for page in small
        if small[page].statements != large[page].statements
    }
    changed = {
        page: f"HTTP {small[page].status} -> {large[page].status}"
        for page in small
        if small[page].status != large[page].status
    }
    assert not changed, changed
    assert not grown, "pages whose SQL grows with the data (a query per row):\n" + "\n".join(
        f"  {page}: {what}" for page, what in sorted(grown.items())
    )


@pytest.mark.slow
@pytest.mark.slow
def test_the_pages_were_really_rendered(counts: dict[int, dict[str, dict[str, Measure]]]) -> None:
    """Guards the test above against measuring error pages: the staff user gets every page."""
    staff = counts[10]["staff"]
    failed = {
        page: m.status for page, m in staff.items()
        if m.status != STAFF_REFUSED.get(page.split()[0], 200)
    }
    assert not failed, failed
    assert all(m.statements > 0 for m in staff.values())
    member = counts[10]["member_accountant"]
    assert member["main.home /accueil"].status == 200
    assert re.match(r"^\d+$", str(member["main.home /accueil"].statements))
