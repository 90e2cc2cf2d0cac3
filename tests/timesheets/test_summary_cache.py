"""The time summary's service-months are reused per worker (``app.allocation.cache``): a
new entry, an edit or a deletion made in this process shows on the next view, and each member
scope keeps its own totals."""

from __future__ import annotations

import re
from datetime import date

from app.allocation import cache
from timesheets import services
from timesheets.services import EntryData

URL = "/temps/synthese?du=2026-03-01&au=2026-03-31"


def _login(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": "motdepasse-de-test"})
    assert response.status_code == 302


def _total_hours(client) -> str:
    page = client.get(URL).get_data(as_text=True)
    found = re.search(r'Total</th>\s*<td class="num" data-value="([\d.]+)">', page)
    assert found, page
    return found.group(1)


def test_a_new_an_edited_and_a_deleted_entry_show_on_the_next_view(client, cluster, db):
    cache.clear()
    _login(client, "compta@test.fr")
    first = services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, cluster.a.id)
    )
    assert _total_hours(client) == "1.0000"
    assert _total_hours(client) == "1.0000"  # the cached months
    services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 6), cluster.compta.id, 30, cluster.b.id)
    )
    assert _total_hours(client) == "1.5000"
    (entry,) = first.entries
    entry_id = entry.id
    services.update_entry(
        db, cluster.accountant, entry_id,
        EntryData(date(2026, 3, 5), cluster.compta.id, 120, cluster.a.id),
    )
    assert _total_hours(client) == "2.5000"
    services.delete_entry(db, cluster.accountant, entry_id)
    assert _total_hours(client) == "0.5000"


def test_each_member_scope_keeps_its_own_totals(app, cluster, db):
    cache.clear()
    for member, minutes in ((cluster.a, 60), (cluster.b, 30)):
        services.create_entry(
            db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, minutes,
                                              member.id)
        )
    staff, member_accountant = app.test_client(), app.test_client()
    _login(staff, "compta@test.fr")
    _login(member_accountant, "ca@test.fr")  # the accountant of member A
    assert _total_hours(staff) == "1.5000"
    assert _total_hours(member_accountant) == "1.0000"
    assert _total_hours(staff) == "1.5000"


def test_an_edit_by_another_worker_shows_at_once(client, cluster, db, monkeypatch):
    """Another gunicorn worker's edit: this process's write counter does not see it (put back
    as it was after the edit), the audit event the edit wrote in its transaction does."""
    cache.clear()
    _login(client, "compta@test.fr")
    created = services.create_entry(
        db, cluster.accountant, EntryData(date(2026, 3, 5), cluster.compta.id, 60, cluster.a.id)
    )
    (entry,) = created.entries
    assert _total_hours(client) == "1.0000"
    seen = cache.write_generation()
    services.update_entry(
        db, cluster.accountant, entry.id,
        EntryData(date(2026, 3, 5), cluster.compta.id, 90, cluster.a.id),
    )
    db.flush()
    monkeypatch.setattr(cache, "_generation", seen)  # as if written by another process
    assert _total_hours(client) == "1.5000"
