"""``mutualise demo``: the cluster of the seed document with its figures (and only those), one
user per role, a plausible deterministic year of work and costs; twice duplicates nothing. The
same generator builds larger synthetic clusters, deterministically."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.eu import vat
from stdnum.fr import siret

from accounting.allocation.models import AllocationLine, AllocationRun
from accounting.audit import AuditEvent
from accounting.costs import Cost, Subsidy
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.payments import overdue_invoices
from accounting.ledger.models import JournalEntry
from accounting.org import Carrier, Member, MemberFigures, Role, Service, User
from accounting.periods import Period
from app.cli import cli
from app.database import make_engine
from app.demo import DEMO_USERS, load_demo
from app.demo.cluster import _entries
from app.migrate import upgrade
from timesheets.models import Activity, UnitType, WorkEntry

D = Decimal

#: What the seed document gives, member by member (None: not given, so missing).
DOCUMENT_FIGURES = {
    "AIDVS": (Decimal("170000.00"), Decimal("6.000"), None, 7),
    "SERVEMPLOI": (Decimal("500000.00"), Decimal("5.000"), 110, None),
    "SERVDOM": (Decimal("120000.00"), Decimal("7.000"), None, None),
    "SVP": (Decimal("150000.00"), Decimal("14.000"), None, None),
    "COTESERV": (Decimal("600000.00"), None, None, None),
    "DESSICA": (None, Decimal("11.000"), None, None),
    "RECYCLERIE": (None, Decimal("9.000"), 8, None),
    "SOLSTISS": (None, Decimal("9.000"), 8, None),
}


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_loads_the_cluster_of_the_seed_document_and_prints_the_logins(runner, db):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    for user in DEMO_USERS:
        assert f"{user.email:<36} {user.password}" in result.output
    assert "for member SERVEMPLOI" in result.output

    members = {m.code: m for m in db.scalars(select(Member))}
    assert len(members) == 10
    assert members["SVP"].legal_form == "SCOP"
    assert members["SERVEMPLOI"].legal_form == "Association intermédiaire"
    assert all(siret.is_valid(m.siret) for m in members.values())
    assert all(vat.is_valid(m.vat_number) for m in members.values() if m.vat_number)
    carrier = db.scalars(select(Carrier)).one()
    assert (carrier.name, carrier.member.code) == ("Association Val Horizon", "VALHORIZON")
    assert siret.is_valid(carrier.siret) and carrier.siret.startswith(carrier.siren)

    figures = {
        f.member.code: (f.revenue, f.headcount, f.insertion_workers, f.volunteers)
        for f in db.scalars(select(MemberFigures).where(MemberFigures.year == 2025))
    }
    assert figures == DOCUMENT_FIGURES  # Val Horizon and Tremplin: nothing given, nothing filed

    services = {s.code: s for s in db.scalars(select(Service))}
    assert set(services) == {"COMPTA", "DEVELOPPEMENT", "FRAIS"}
    assert services["FRAIS"].overheads_by == "costs"
    activities = set(db.scalars(select(Activity.name)))
    assert {"Étude micro-crèches", "Étude de faisabilité CAE", "Paie"} <= activities

    users = {u.email: u for u in db.scalars(select(User))}
    for demo in DEMO_USERS:
        user = users[demo.email]
        assert user.role_set == {demo.role}
        assert user.check_password(demo.password)
    accountant = users["comptable@servemploi.example"]
    assert accountant.member.code == "SERVEMPLOI" and not accountant.sees_all_members

    assert _count(db, WorkEntry) > 1000
    assert _count(db, Cost) == 136 and _count(db, Subsidy) == 4


def test_running_the_demo_twice_duplicates_nothing(runner, db) -> None:
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    models = (Member, User, Service, WorkEntry, Cost, Subsidy, MemberFigures, Activity, UnitType,
              AllocationRun, AllocationLine, Invoice, Payment, JournalEntry, Period)
    counts = {m: _count(db, m) for m in (*models, AuditEvent)}
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0
    assert "Nothing to change: the demo is already loaded." in again.output
    assert "(existing user: password unchanged)" in again.output
    assert {m: _count(db, m) for m in counts} == counts


def test_the_demo_has_three_quarters_allocated_invoiced_and_partly_paid_and_q4_left_open(
    runner, db
) -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert ("3 approved allocation runs, 26 invoices, 25 payments, 1 closed period"
            in result.output)
    periods = {p.code: p for p in db.scalars(select(Period))}
    assert set(periods) == {"2025-T1", "2025-T2", "2025-T3"}  # Q4 and 2026: nothing yet
    assert [periods[c].is_closed for c in ("2025-T1", "2025-T2", "2025-T3")] == [
        True, False, False]
    runs = {r.period.code: r for r in db.scalars(select(AllocationRun))}
    assert set(runs) == {"2025-T1", "2025-T2", "2025-T3"}
    assert all(r.status == "approved" for r in runs.values())

    invoices = {(i.period.code, i.customer_code): i for i in db.scalars(select(Invoice))}
    # Nine members invoiced (never the carrier's own member), Sols'Tiss only from April: 8+9+9.
    assert len(invoices) == 26
    assert {code for _, code in invoices} == {
        "AIDVS", "COTESERV", "DESSICA", "RECYCLERIE", "SERVDOM", "SERVEMPLOI", "SOLSTISS",
        "SVP", "TREMPLIN"}  # fmt: skip
    assert invoices[("2025-T1", "AIDVS")].number == "2025-0001"
    for (code, _member), invoice in invoices.items():
        # Each invoice re-invoices exactly the member's share of its quarter's run.
        share = db.scalar(select(func.sum(AllocationLine.amount)).where(
            AllocationLine.run_id == runs[code].id, AllocationLine.member_id == invoice.member_id))
        assert invoice.total_excl_tax == share
        assert invoice.issue_date == {"2025-T1": date(2025, 4, 10), "2025-T2": date(2025, 7, 10),
                                      "2025-T3": date(2025, 10, 10)}[code]
    statuses = {key: i.status for key, i in invoices.items()}
    partly, unpaid = ("2025-T2", "SERVEMPLOI"), ("2025-T3", "DESSICA")
    assert (statuses.pop(partly), statuses.pop(unpaid)) == ("partly_paid", "issued")
    assert set(statuses.values()) == {"paid"}
    half = (invoices[partly].total_incl_tax / 2).quantize(Decimal("0.01"))
    assert invoices[partly].outstanding == invoices[partly].total_incl_tax - half
    assert [i.number for i in overdue_invoices(db, today=date(2025, 12, 1))] == [
        invoices[partly].number, invoices[unpaid].number]
    assert _count(db, Payment) == 25
    assert sum(db.scalars(select(Payment.amount))) == sum(
        i.total_incl_tax for i in invoices.values()) - invoices[unpaid].total_incl_tax - (
        invoices[partly].total_incl_tax - half)

    # The ledger has the sales entry of every invoice and the bank entry of every payment.
    sources = dict(db.execute(select(JournalEntry.source_type, func.count())
                              .group_by(JournalEntry.source_type)).tuples().all())
    assert (sources["invoice"], sources["payment"]) == (26, 25)


def test_the_demo_year_is_posted_as_an_accountant_would(runner, db) -> None:
    from accounting.ledger.reports import trial_balance

    runner.invoke(cli, ["demo"])
    journals = set(db.scalars(select(JournalEntry.journal_code).distinct()))
    assert journals == {"PA", "HA", "BQ", "VT", "OD"}
    year = {row.account: row for row in trial_balance(db, date(2025, 1, 1), date(2025, 12, 31))}
    assert "401000" not in year  # every supplier has its account, 401 + code
    assert year["421000"].balance == D("0")  # net pay paid on the day of the payroll
    # December's contributions are paid on 15 January: (2 450 − 1 911) + 1 078 + (2 700 −
    # 2 106) + 1 188 + (900 − 702) are owed to the URSSAF at the closing.
    assert year["431000"].balance == D("-3597.00")
    # Everything paid in the end: suppliers, social bodies, subsidies received.
    books = {row.account: row.balance for row in trial_balance(db, None, None)}
    for account, balance in books.items():
        if account[:3] in ("401", "421", "431", "441"):
            assert balance == D("0"), account
    # Lettering: every member's fully paid invoices are lettered, what is left is owed.
    from accounting.invoicing.payments import member_balances
    from accounting.ledger.lettering import unlettered_balances

    owed = {b.member_id: b.balance for b in member_balances(db, today=date(2025, 12, 1))
            if b.balance}  # fmt: skip
    assert unlettered_balances(db) == owed and len(owed) == 2


def test_the_demo_year_of_work_is_plausible(runner, db) -> None:
    runner.invoke(cli, ["demo"])
    per_person_day: dict[tuple[int, object], int] = defaultdict(int)
    members = {m.id: m for m in db.scalars(select(Member))}
    activity_service = dict(db.execute(select(Activity.id, Activity.service_id)).all())
    common = 0
    for entry in db.scalars(select(WorkEntry)):
        per_person_day[(entry.staff_id, entry.day)] += entry.minutes
        assert entry.day.year == 2025 and entry.day.weekday() < 5
        assert activity_service[entry.activity_id] == entry.service_id
        if entry.member_id is None:
            common += 1
        else:
            assert members[entry.member_id].is_active_on(entry.day)  # Sols'Tiss from April
    assert max(per_person_day.values()) <= 8 * 60
    assert common > 100  # the micro-crèche and CAE studies, the monthly meetings
    studies = db.scalar(
        select(func.sum(WorkEntry.minutes))
        .join(Activity, Activity.id == WorkEntry.activity_id)
        .where(Activity.name == "Étude micro-crèches")
    )
    assert studies > 100 * 60


def test_the_demo_work_is_the_same_for_the_same_seed(runner, db) -> None:
    runner.invoke(cli, ["demo"])
    staff = {
        role: db.scalars(select(User).where(User.email == user.email)).one()
        for role, user in (("accountant", DEMO_USERS[1]), ("developer", DEMO_USERS[2]),
                           ("admin", DEMO_USERS[0]))
    }  # fmt: skip
    first = list(_entries(db, 2025, 1, staff))
    assert first == list(_entries(db, 2025, 1, staff))
    assert first != list(_entries(db, 2025, 2, staff))
    stored = db.scalar(select(func.sum(WorkEntry.minutes)))
    assert stored == sum(row[2] for row in first)


def _synthetic_dump(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with Session(engine) as session:
            session.info["actor_label"] = "test"
            report = load_demo(session, members=30, years=2, seed=7, entries=2_000)
            session.commit()
            assert (report.members, report.work_entries) == (30, 2_000)
            again = load_demo(session, members=30, years=2, seed=7, entries=2_000)
            session.commit()
            assert not again.changed
            return list(
                session.execute(
                    select(User.email, WorkEntry.day, WorkEntry.minutes, Member.code,
                           Service.code, WorkEntry.quantity, WorkEntry.status)
                    .join(User, User.id == WorkEntry.staff_id)
                    .join(Service, Service.id == WorkEntry.service_id)
                    .outerjoin(Member, Member.id == WorkEntry.member_id)
                    .order_by(WorkEntry.import_key)
                ).tuples()
            )  # fmt: skip
    finally:
        engine.dispose()


def test_a_synthetic_cluster_is_deterministic_and_idempotent(database_url, tmp_path) -> None:
    from tests.conftest import fresh_database_url

    dumps = []
    for _ in range(2):
        urls = fresh_database_url(database_url, tmp_path)
        url = next(urls)
        try:
            dumps.append(_synthetic_dump(url))
        finally:
            urls.close()
    assert len(dumps[0]) == 2_000
    assert dumps[0] == dumps[1]
    assert {row[1].year for row in dumps[0]} == {2024, 2025}


def test_synthetic_members_have_valid_sirets_and_full_figures(db) -> None:
    load_demo(db, members=20, entries=500, seed=3)
    members = list(db.scalars(select(Member).where(Member.code.like("M%"))))
    assert len(members) == 20
    assert all(siret.is_valid(m.siret) for m in members)
    assert _count(db, MemberFigures) == 20
    assert db.scalar(select(func.count()).where(MemberFigures.revenue.is_(None))) == 0
    scoped = db.scalars(select(User).where(User.member_id.is_not(None))).one()
    assert (scoped.role_set, scoped.member.code) == ({Role.MEMBER_ACCOUNTANT}, "M0001")
    # 20 members: 3 staff (the demo accountant and developer, one generated), 5 demo users.
    assert _count(db, User) == 6
    assert _count(db, WorkEntry) == 500
