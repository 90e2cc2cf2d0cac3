"""A stored run's page reads one page of members in SQL, totals over every member (issue 16),
and warns when an input changed since the run, from its stored input digests.

The data: 120 members M001…M120; member number i logged i × 10 minutes of accounting work.
COMPTA shares 7 260 € (= 1 + 2 + … + 120) by hours: member i gets exactly i €. PAIE shares
240 € equally: 2 € each. So member i's total is i + 2 €, the totals 7 260 €, 240 € and
7 500 €, and page 2 (50 a page, by code) is M051…M100.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Role
from accounting.periods import get_or_create_period
from app.allocation.services import store_period
from timesheets.models import EntryStatus, WorkEntry

MEMBERS = 120


def eur(amount: str) -> str:
    return amount.replace(" ", "\u202f")


@pytest.fixture
def big_run(db, make_member, make_service, make_user):
    members = [make_member(f"M{i:03d}") for i in range(1, MEMBERS + 1)]
    compta = make_service("COMPTA", name="Comptabilité")
    paie = make_service("PAIE", name="Paie")
    staff = make_user()
    add_cost(
        db,
        CostInput(
            CostKind.COST, compta.id, date(2026, 1, 31), Decimal("7260.00"), "641100", "Salaires"
        ),
    )
    add_cost(
        db,
        CostInput(
            CostKind.COST,
            paie.id,
            date(2026, 1, 31),
            Decimal("240.00"),
            "641100",
            "Logiciel de paie",
        ),
    )
    for i, member in enumerate(members, start=1):
        db.add(
            WorkEntry(
                staff_id=staff.id,
                day=date(2026, 1, 12),
                minutes=10 * i,
                member_id=member.id,
                service_id=compta.id,
                status=EntryStatus.APPROVED.value,
            )
        )
    set_key(db, compta, "100% hours", date(2026, 1, 1), agreed_by="AG")
    set_key(db, paie, "100% equal", date(2026, 1, 1), agreed_by="AG")
    db.flush()
    run = store_period(db, get_or_create_period(db, "2026-01"))
    db.commit()
    return run


def _rows(html: str) -> dict[str, str]:
    """member code → its row's HTML in the matrix."""
    body = html.split('id="matrice"')[1].split("</tbody>")[0]
    return {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<tr><th scope="row"><span class="code">(M\d{3})</span>.*?</tr>', body, re.S
        )
    }


def test_page_two_shows_members_51_to_100_and_totals_over_every_member(client, login_as, big_run):
    login_as(Role.TREASURER)
    response = client.get(f"/repartition/{big_run.id}?page=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = _rows(html)
    assert sorted(rows) == [f"M{i:03d}" for i in range(51, 101)]
    for i in (51, 77, 100):
        assert f"{i},00" in rows[f"M{i:03d}"]  # COMPTA: i €
        assert "2,00" in rows[f"M{i:03d}"]  # PAIE: 2 €
        assert f"{i + 2},00" in rows[f"M{i:03d}"]  # total
    foot = html.split('id="matrice"')[1].split("<tfoot>")[1].split("</tfoot>")[0]
    assert f"({MEMBERS} adhérents)" in foot
    assert eur("7 260,00") in foot and "240,00" in foot and eur("7 500,00") in foot
    assert "Page 2 sur 3" in html


def test_the_last_page_is_members_101_to_120_and_a_page_past_it_shows_the_last(
    client, login_as, big_run
):
    login_as(Role.TREASURER)
    last = _rows(client.get(f"/repartition/{big_run.id}?page=3").get_data(as_text=True))
    assert sorted(last) == [f"M{i:03d}" for i in range(101, 121)]
    beyond = _rows(client.get(f"/repartition/{big_run.id}?page=9").get_data(as_text=True))
    assert sorted(beyond) == sorted(last)


def test_a_member_accountant_sees_only_their_row(client, login_as, db, big_run):
    from accounting.allocation.runs import approve_run
    from accounting.org import Member

    approve_run(db, big_run)
    db.commit()
    member = db.scalars(select(Member).where(Member.code == "M077")).one()
    login_as(Role.MEMBER_ACCOUNTANT, member=member)
    html = client.get(f"/repartition/{big_run.id}").get_data(as_text=True)
    assert list(_rows(html)) == ["M077"] and "79,00" in _rows(html)["M077"]


def test_changing_an_hour_entry_after_the_run_warns_on_its_page(client, login_as, db, big_run):
    login_as(Role.TREASURER)
    assert 'id="inputs-changed"' not in client.get(f"/repartition/{big_run.id}").get_data(
        as_text=True
    )
    entry = db.scalars(select(WorkEntry).order_by(WorkEntry.id)).first()
    entry.minutes += 30  # half an hour more for M001: the same count of entries
    db.commit()
    html = client.get(f"/repartition/{big_run.id}").get_data(as_text=True)
    warning = html.split('id="inputs-changed"')[1].split("</p>")[0]
    assert "les temps" in warning and "les charges" not in warning
    assert ">1,00" in _rows(html)["M001"]  # the run's stored amount, not today's
