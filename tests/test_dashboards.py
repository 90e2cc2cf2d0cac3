"""The role dashboards on the home page: each block's figures, worked out by hand from the
cluster of tests/cluster_data.py (4 members, today's calendar), then the page as each role
sees it."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from accounting.org import Role
from app.main.dashboards import (
    accountant_board,
    admin_board,
    developer_board,
    member_board,
    treasurer_board,
)
from app.main.routes import chosen_month
from tests.cluster_data import SHARE, Cluster, build_cluster
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def cluster(db: Session) -> Cluster:
    return build_cluster(db, members=4)


def login(client: FlaskClient, cluster: Cluster, role: Role) -> None:
    response = client.post(
        "/login", data={"email": cluster.users[role].email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


def test_developer_sees_own_hours_of_the_week_and_month_per_member_and_common_work(
    db: Session, cluster: Cluster
) -> None:
    board = developer_board(db, cluster.users[Role.DEVELOPER].id, cluster.today)
    # 4 members × 1 h 30 today, plus 1 h of common work: 7 h, in the week and in the month.
    assert [(r.code, r.week_minutes, r.month_minutes) for r in board.rows] == [
        ("A0001", 90, 90), ("A0002", 90, 90), ("A0003", 90, 90), ("A0004", 90, 90),
        ("", 60, 60),
    ]
    assert board.rows[-1].name == "Travail commun"
    assert (board.week_minutes, board.month_minutes, board.common_month_minutes) == (420, 420, 60)
    # Today's five entries are drafts; the past ones are approved.
    assert [(d.month.start, d.entries, d.minutes) for d in board.drafts] == [
        (cluster.today.replace(day=1), 5, 420)
    ]


def test_accountant_sees_hours_and_units_per_member_and_no_idle_member(
    db: Session, cluster: Cluster
) -> None:
    board = accountant_board(db, cluster.today)
    assert board.services == [("COMPTA", "Comptabilité"), ("DEV", "Développement")]
    first = board.rows[0]
    # 45 min of accounting with 3 entries of weight 2 = 6 units, and 1 h 30 of development.
    assert (first.code, first.minutes, first.units) == ("A0001", {"COMPTA": 45, "DEV": 90},
                                                         Decimal("6.000"))
    assert board.rows[-1].member_id is None and board.rows[-1].minutes == {"DEV": 60}
    assert board.total_minutes == 4 * 135 + 60
    assert board.total_units == Decimal("24")
    assert (board.idle_count, board.idle_members) == (0, [])
    assert board.draft_invoices == []  # every invoice of the past quarter is issued


def test_accountant_sees_the_members_without_activity_in_a_month_with_none(
    db: Session, cluster: Cluster
) -> None:
    third_month = cluster.past.end  # work was logged on the quarter's 2nd day only
    board = accountant_board(db, third_month)
    # In the last month of the past quarter nobody logged anything: all 4 members are idle.
    assert board.idle_count == 4
    assert [code for code, _ in board.idle_members] == ["A0001", "A0002", "A0003", "A0004"]


def test_treasurer_sees_the_latest_run_waiting_and_the_overdue_invoices(
    db: Session, cluster: Cluster
) -> None:
    board = treasurer_board(db, cluster.today)
    # The latest run is last month's, stored and not approved: COMPTA 1 000 € equally (250 €
    # each) and DEV 600 € by hours (60 min each: 150 € each).
    assert board.period.id == cluster.last_month.id
    assert board.allocation_status == "stored"
    assert [(m.code, m.amounts) for m in board.allocation] == [
        (f"A000{n}", {"COMPTA": Decimal("250.00"), "DEV": Decimal("150.00")}) for n in (1, 2, 3, 4)
    ]
    assert board.allocation_total == Decimal("1600.00")
    assert board.settlements == []  # nothing invoiced for last month
    assert [r.id for r in board.waiting_runs] == [cluster.runs[1].id]
    # The past quarter's invoices fell due 30 days after the quarter; members 3 and 4 did not pay.
    assert [i.customer_code for i in board.overdue] == ["A0003", "A0004"]
    assert (board.overdue_count, board.overdue_total) == (2, 2 * SHARE)


def test_treasurer_chooses_the_past_quarter_and_sees_invoiced_against_paid(
    db: Session, cluster: Cluster
) -> None:
    board = treasurer_board(db, cluster.today, cluster.past.code)
    assert board.period.id == cluster.past.id and board.allocation_status == "approved"
    assert all(m.total == SHARE for m in board.allocation)
    assert [(s.code, s.invoiced, s.paid) for s in board.settlements] == [
        ("A0001", SHARE, SHARE), ("A0002", SHARE, SHARE),
        ("A0003", SHARE, Decimal("0.00")), ("A0004", SHARE, Decimal("0.00")),
    ]
    assert (board.invoiced, board.paid, board.outstanding) == (4 * SHARE, 2 * SHARE, 2 * SHARE)


def test_member_accountant_sees_their_twelve_months_and_what_they_owe(
    db: Session, cluster: Cluster
) -> None:
    paid = member_board(db, cluster.members[0].id, cluster.today)
    assert paid.months == [
        (cluster.past.label, {"COMPTA": Decimal("1000.00"), "DEV": Decimal("600.00")})
    ]
    assert paid.allocated == SHARE
    assert [i.status for i in paid.invoices] == ["paid"]
    assert (paid.due, paid.overdue) == (Decimal("0.00"), Decimal("0.00"))

    unpaid = member_board(db, cluster.members[2].id, cluster.today)
    assert (unpaid.due, unpaid.overdue, unpaid.next_due) == (SHARE, SHARE, None)


def test_admin_sees_keys_periods_missing_figures_and_the_audit_log(
    db: Session, cluster: Cluster
) -> None:
    board = admin_board(db, cluster.today)
    assert [(k.service_code, k.text) for k in board.keys] == [("COMPTA", "equal"),
                                                               ("DEV", "hours")]
    assert board.keys[1].description == "au prorata des heures"
    assert board.services_without_key == []
    assert [m.code for m in board.missing] == ["A0004"]
    assert board.figures_needed == frozenset()  # equal and hours need no figures
    assert {p.id for p in board.periods} == {cluster.past.id, cluster.last_month.id}
    assert board.open_past_periods == 2
    assert len(board.events) == 10


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.DEVELOPER, ["Mon temps", "7 h", "Travail commun", "data-chart=\"bar\""]),
        (Role.ACCOUNTANT, ["Activité du pôle", "10 h", "Unités d'œuvre", "24,0"]),
        (Role.TREASURER, ["Répartitions en attente d'approbation", "1 600,00 €",
                          "3 200,00 €", "data-chart=\"stacked\""]),
        (Role.MEMBER_ACCOUNTANT, ["Adhérent 1", "1 600,00 €", "Payée"]),
        (Role.ADMIN, ["Clés en vigueur", "au prorata des heures", "A0004"]),
    ],
)
def test_each_role_gets_its_dashboard_on_the_home_page(
    client: FlaskClient, cluster: Cluster, role: Role, expected: list[str]
) -> None:
    login(client, cluster, role)
    page = unescape(client.get("/accueil").get_data(as_text=True))
    for text in expected:
        assert text in page.replace("\u202f", " ").replace("\xa0", " "), text


def test_a_member_accountant_sees_nothing_of_another_member(
    client: FlaskClient, cluster: Cluster
) -> None:
    login(client, cluster, Role.MEMBER_ACCOUNTANT)
    html = client.get("/accueil").get_data(as_text=True)
    assert "Adhérent 1" in html
    for other in ("Adhérent 2", "Adhérent 3", "A0003", "Travail commun"):
        assert other not in html


def test_a_bad_month_or_period_parameter_falls_back_quietly(
    client: FlaskClient, cluster: Cluster
) -> None:
    login(client, cluster, Role.TREASURER)
    assert client.get("/accueil?mois=2026-13&periode=n%27importe").status_code == 200


def test_the_month_parameter_is_read_strictly() -> None:
    from datetime import date

    today = date(2026, 11, 26)
    assert chosen_month("2025-03", today) == date(2025, 3, 1)
    assert chosen_month("2025-3", today) == date(2026, 11, 1)
    assert chosen_month("2025-13", today) == date(2026, 11, 1)
    assert chosen_month(None, today) == date(2026, 11, 1)


def test_with_many_members_the_tables_keep_the_heaviest_and_merge_the_others(
    db: Session,
) -> None:
    from app.main.dashboards import TOP_MEMBERS

    cluster = build_cluster(db, members=TOP_MEMBERS + 3)
    board = accountant_board(db, cluster.today)
    members = [r for r in board.rows if r.member_id is not None]
    others = [r for r in board.rows if r.others]
    assert len(members) == TOP_MEMBERS
    assert [(o.name, o.minutes, o.units) for o in others] == [
        ("Autres adhérents (3)", {"COMPTA": 3 * 45, "DEV": 3 * 90}, Decimal("18.000"))
    ]
    assert board.total_minutes == (TOP_MEMBERS + 3) * 135 + 60  # nothing lost in the merge
    treasurer = treasurer_board(db, cluster.today, cluster.past.code)
    assert len(treasurer.allocation) == TOP_MEMBERS + 1
    assert treasurer.allocation_total == (TOP_MEMBERS + 3) * SHARE
    assert treasurer.invoiced == (TOP_MEMBERS + 3) * SHARE


def test_the_accountant_keeps_the_members_with_the_most_minutes_and_merges_the_rest(
    db: Session,
) -> None:
    from app.main.dashboards import TOP_MEMBERS
    from timesheets.models import WorkEntry

    cluster = build_cluster(db, members=TOP_MEMBERS + 3)
    # The three last members by code get 5 more minutes of accounting each: they are now the
    # heaviest; of the 18 tied others at 135 min, the first 12 by code complete the top.
    heavy = cluster.members[-3:]
    for member in heavy:
        db.add(WorkEntry(staff_id=cluster.users[Role.ACCOUNTANT].id, day=cluster.today,
                         minutes=5, member_id=member.id,
                         service_id=cluster.services["COMPTA"].id, status="draft",
                         created_by_id=cluster.users[Role.ACCOUNTANT].id))
    db.flush()
    board = accountant_board(db, cluster.today)
    kept = [r.code for r in board.rows if r.member_id is not None]
    codes = sorted(m.code for m in cluster.members)
    assert kept == sorted(codes[: TOP_MEMBERS - 3] + [m.code for m in heavy])
    assert [(r.code, r.minutes) for r in board.rows if r.code == heavy[0].code] == [
        (heavy[0].code, {"COMPTA": 50, "DEV": 90})]
    others = [r for r in board.rows if r.others]
    # Left out: the last three of the tied members (3 × 45 min of accounting, 3 × 1 h 30 of
    # development, 3 × 6 units).
    assert [(o.name, o.minutes, o.units, o.others) for o in others] == [
        ("Autres adhérents (3)", {"COMPTA": 135, "DEV": 270}, Decimal("18"), 3)]
    assert board.rows[-1].member_id is None and board.rows[-1].minutes == {"DEV": 60}
    assert board.total_minutes == (TOP_MEMBERS + 3) * 135 + 15 + 60


@pytest.mark.parametrize("role", [Role.TREASURER, Role.MEMBER_ACCOUNTANT])
def test_every_download_button_of_a_dashboard_downloads_a_file(
    client: FlaskClient, cluster: Cluster, role: Role
) -> None:
    import re

    login(client, cluster, role)
    page = client.get(f"/accueil?periode={cluster.past.code}").get_data(as_text=True)
    links = [unescape(h) for h in re.findall(r'<a class="btn download" href="([^"]+)"', page)]
    assert links, "the dashboard offers no download"
    for href in links:
        with client.get(href) as response:
            assert response.status_code == 200, href
            assert not response.mimetype.startswith("text/html"), href
            assert response.headers.get("Content-Disposition", "").startswith("attachment"), href


# ------------------------------------------------------------- the member portal (issue 17)


def test_the_member_portal_shows_the_months_of_its_figures_not_only_the_last_twelve(
    db: Session,
) -> None:
    from datetime import date

    # today 20/05/2026: the past quarter is Q4 2025, invoiced on 01/01/2026, members 1 and 2
    # paid on 05/01/2026 (tests/cluster_data.py).
    cluster = build_cluster(db, members=4, today=date(2026, 5, 20))
    first, third = cluster.members[0].id, cluster.members[2].id
    # Looked at long after (like the demo, dated 2025, opened today): the board still ends at
    # the member's latest figure, the end of Q4 2025 which its share and its invoice (issued in
    # January 2026) both bill; the payment that settles that invoice comes with it.
    board = member_board(db, first, date(2027, 12, 1))
    assert (board.span.start, board.span.end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert board.span.label == "janvier 2025 – décembre 2025"
    assert board.years == [2025]
    assert board.allocated == SHARE  # its own share, not the cluster's 4 × SHARE
    assert [(d.kind, d.total_incl_tax) for d in board.documents] == [("invoice", SHARE)]
    assert [(p.paid_on, p.amount, p.method) for p in board.payments] == [
        (date(2026, 1, 5), SHARE, "Virement")
    ]
    assert (board.invoiced, board.paid, board.due) == (SHARE, SHARE, Decimal("0.00"))

    unpaid = member_board(db, third, date(2027, 12, 1))
    assert unpaid.payments == [] and unpaid.paid == Decimal("0")
    assert (unpaid.due, unpaid.overdue) == (SHARE, SHARE)  # due on 31/01/2026


def test_the_member_portal_period_selector(db: Session) -> None:
    from datetime import date

    cluster = build_cluster(db, members=4, today=date(2026, 5, 20))
    first = cluster.members[0].id
    quarter = member_board(db, first, date(2026, 5, 20), "2025-10", "2025-12")
    assert quarter.span.label == "octobre 2025 – décembre 2025"
    # The quarter's share and the invoice billing it side by side (never « Réparti » without its
    # invoice because the invoice was issued the month after).
    assert quarter.allocated == SHARE and quarter.invoiced == SHARE
    assert [d.number for d in quarter.documents] == ["2026-0001"]
    assert [p.paid_on for p in quarter.payments] == [date(2026, 1, 5)]
    later = member_board(db, first, date(2026, 5, 20), "2026-02", "2026-12")
    assert (later.allocated, later.documents, later.payments) == (Decimal("0"), [], [])
    # Reversed, or only a start: put right, twelve months from the start.
    assert member_board(db, first, date(2026, 5, 20), "2025-12", "2025-10").span == quarter.span
    alone = member_board(db, first, date(2026, 5, 20), "2025-03", None)
    assert (alone.span.start, alone.span.end) == (date(2025, 3, 1), date(2026, 2, 28))
    garbage = member_board(db, first, date(2026, 5, 20), "2025-13", "n'importe")
    assert garbage.span.end == date(2025, 12, 31)


def test_the_member_portal_page_with_a_chosen_year(client: FlaskClient, db: Session) -> None:
    from datetime import date

    cluster = build_cluster(db, members=4, today=date(2026, 5, 20))
    db.commit()
    login(client, cluster, Role.MEMBER_ACCOUNTANT)
    html = unescape(client.get("/accueil?du=2025-01&au=2025-12").get_data(as_text=True))
    html = html.replace("\u202f", " ").replace("\xa0", " ")
    assert "Adhérent 1 — janvier 2025 – décembre 2025" in html
    assert 'value="2025-01"' in html and 'value="2025-12"' in html
    assert "Ma part répartie" in html and "1 600,00 €" in html
    assert 'id="mem-documents"' in html and "2026-0001" in html
    assert "6 400,00" not in html  # the cluster's total never shows
    html = unescape(client.get("/accueil?du=2026-01&au=2026-01").get_data(as_text=True))
    assert "Virement" in html and 'id="mem-documents"' not in html
    assert "Aucune facture ni avoir pour janvier 2026" in html


def test_the_treasurers_top_members_aggregated_by_the_database_are_the_lines_summed_by_hand(
    db: Session,
) -> None:
    """Issue 16: the top list is computed in SQL; here it is recomputed from the raw lines in
    Python (every member's sum per service, the heaviest first, ties to the lower code)."""
    from collections import defaultdict

    from sqlalchemy import select

    from accounting.allocation.models import AllocationLine, AllocationRun
    from accounting.org import Member, Service
    from app.main.dashboards import TOP_MEMBERS

    cluster = build_cluster(db, members=TOP_MEMBERS + 4)
    # Make the weights differ: the last members get more, one member's line is negative.
    run = db.scalars(select(AllocationRun).where(AllocationRun.period_id == cluster.past.id)
                     .where(AllocationRun.status == "approved")).one()
    lines = db.scalars(select(AllocationLine).where(AllocationLine.run_id == run.id)
                       .order_by(AllocationLine.id)).all()
    for index, line in enumerate(lines):
        db.execute(AllocationLine.__table__.update().where(AllocationLine.id == line.id)
                   .values(amount=Decimal(index * 7 % 23) - Decimal("5.50")))
    db.commit()
    by_hand: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for member, service, amount in db.execute(
        select(Member.code, Service.code, AllocationLine.amount)
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id == run.id)
    ):
        by_hand[member][service] = by_hand[member].get(service, Decimal(0)) + amount
    ranked = sorted(by_hand, key=lambda code: (-sum(by_hand[code].values()), code))
    top, rest = sorted(ranked[:TOP_MEMBERS]), ranked[TOP_MEMBERS:]
    merged: dict[str, Decimal] = defaultdict(Decimal)
    for code in rest:
        for service, amount in by_hand[code].items():
            merged[service] += amount

    board = treasurer_board(db, cluster.today, cluster.past.code)
    assert [(r.code, r.amounts) for r in board.allocation[:-1]] == [
        (code, by_hand[code]) for code in top
    ]
    others = board.allocation[-1]
    assert (others.name, others.others, others.amounts) == (
        f"Autres adhérents ({len(rest)})", len(rest), dict(merged)
    )


def test_the_accountant_table_is_reused_until_an_entry_changes_in_any_worker(
    db: Session, cluster: Cluster, monkeypatch
) -> None:
    """The month's table is kept per worker (``app.allocation.cache.board``): unchanged work
    gives the same table; an entry added here, or edited by another worker (this process's
    write counter put back as it was), shows on the next view."""
    from app.allocation import cache
    from timesheets import services
    from timesheets.services import EntryData

    cache.clear()
    accountant, compta = cluster.users[Role.ACCOUNTANT], cluster.services["COMPTA"]
    first = accountant_board(db, cluster.today)
    assert accountant_board(db, cluster.today).rows is first.rows  # reused
    created = services.create_entry(
        db, accountant, EntryData(cluster.today, compta.id, 30, cluster.members[0].id))
    db.flush()
    added = accountant_board(db, cluster.today)
    assert added.total_minutes == first.total_minutes + 30
    (entry,) = created.entries
    seen = cache.write_generation()
    services.update_entry(
        db, accountant, entry.id, EntryData(cluster.today, compta.id, 50, cluster.members[0].id))
    db.flush()
    monkeypatch.setattr(cache, "_generation", seen)  # as if written by another process
    assert accountant_board(db, cluster.today).total_minutes == first.total_minutes + 50
