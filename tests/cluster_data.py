"""A complete small cluster built through the domain services, at any scale.

Used by the dashboard tests (exact figures worked out by hand from the numbers below) and by the
query-count test (the same cluster with ten times the members and entries). Everything goes
through the real services: keys, costs, allocation runs (stored, approved), invoices (prepared,
issued and posted to the ledger), payments (posted); only work entries are plain rows (their
services check business rules the data below respects).

The calendar is relative to today, so that "this week", "this month", "overdue" and "the last
twelve months" always have something in them:

- ``past``: the quarter containing the day six months ago (it ended 3 to 6 months ago). Costs:
  COMPTA 1 000,00 € and DEV 600,00 € per member. Keys: COMPTA ``equal``, DEV ``hours``. Every
  member logs 2 h of DEV work in it, so each member's share is exactly 1 000 + 600 = 1 600,00 €.
  The run is approved, the invoices issued the day after the quarter (due 30 days later: all
  overdue today), and the first half of the members (rounded down) have paid in full.
- ``last_month``: the month before this one, a run stored and not approved (waiting).
- this month: each member gets 1 h 30 of DEV work from the development officer on today's
  date (so also this week) and 45 min of COMPTA work with 3 units (weight 2) from the
  accountant, in draft; plus 1 h of common work by the development officer.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, add_cost
from accounting.invoicing.services import prepare_invoices
from accounting.org import Carrier, Member, MemberFigures, Role, Service, User, VatRegime
from accounting.periods import Period, get_or_create_period
from app.allocation.services import approve, store_period
from app.invoices.usecases import issue_period, pay
from tests.conftest import TEST_PASSWORD
from timesheets.models import Activity, EntryStatus, UnitType, WorkEntry

COMPTA_COST = Decimal("1000.00")
DEV_COST = Decimal("600.00")
SHARE = COMPTA_COST + DEV_COST  # each member's share of the past quarter


def quarter_code(day: date) -> str:
    return f"{day.year}-T{(day.month - 1) // 3 + 1}"


def month_code(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def months_before(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Cluster:
    today: date
    members: list[Member]
    services: dict[str, Service]
    users: dict[Role, User]
    past: Period
    last_month: Period
    invoices: list = field(default_factory=list)
    runs: list = field(default_factory=list)

    @property
    def paid_members(self) -> int:
        return len(self.members) // 2


def build_cluster(db: Session, members: int = 4, *, today: date | None = None) -> Cluster:
    """The cluster described in the module docstring, with ``members`` members (flushed, not
    committed: the caller's transaction decides)."""
    today = today or date.today()
    carrier = Carrier(
        code="PORTEUR", name="Association Porteuse", address="1 place du Pôle\n01600 Trévoux",
        siren="732829320", siret="73282932000074", vat_number="FR44732829320",
        iban="FR7630006000011234567890189", bic="AGRIFRPP", email="compta@porteur.test",
        vat_regime=VatRegime.EXEMPT_261B.value, payment_terms_days=30,
    )
    db.add(carrier)
    compta = Service(code="COMPTA", name="Comptabilité", revenue_account="706100")
    dev = Service(code="DEV", name="Développement", revenue_account="706200")
    db.add_all([compta, dev])
    db.flush()
    activity = Activity(service_id=dev.id, name="Prospection")
    unit = UnitType(service_id=compta.id, name="Écriture", weight=Decimal("2.000"))
    db.add_all([activity, unit])

    rows = []
    for n in range(1, members + 1):
        member = Member(
            code=f"A{n:04d}", name=f"Adhérent {n}", joined_on=date(2020, 1, 1),
            address=f"{n} rue de l'Essai\n01000 Bourg", siret="73282932000074",
        )
        db.add(member)
        rows.append(member)
    db.flush()
    for member in rows[:-1]:  # the last member's figures of the year are missing
        db.add(MemberFigures(member_id=member.id, year=today.year, revenue=Decimal("100000.00"),
                             headcount=Decimal("3.000")))

    users: dict[Role, User] = {}
    for role in Role:
        user = User(email=f"{role.value}@cluster.test", name=f"Personne {role.value}",
                    member_id=rows[0].id if role is Role.MEMBER_ACCOUNTANT else None)
        user.role_set = {role}
        user.set_password(TEST_PASSWORD)
        db.add(user)
        users[role] = user
    db.flush()

    for service, text in ((compta, "equal"), (dev, "hours")):
        set_key(db, service, text, date(2020, 1, 1), agreed_by="Assemblée générale",
                user_id=users[Role.ADMIN].id)

    past = get_or_create_period(db, quarter_code(months_before(today, 6)))
    last_month = get_or_create_period(db, month_code(months_before(today, 1)))
    for service, amount in ((compta, COMPTA_COST), (dev, DEV_COST)):
        add_cost(db, CostInput(kind=CostKind.COST, service_id=service.id, day=past.start,
                               amount=amount * members, account="641000", label="Salaires"),
                 user_id=users[Role.ACCOUNTANT].id)
        add_cost(db, CostInput(kind=CostKind.COST, service_id=service.id, day=last_month.start,
                               amount=amount, account="641000", label="Salaires"),
                 user_id=users[Role.ACCOUNTANT].id)

    developer, accountant = users[Role.DEVELOPER], users[Role.ACCOUNTANT]

    def entry(staff: User, day: date, minutes: int, member: Member | None, service: Service,
              status: EntryStatus, **extra: object) -> WorkEntry:
        return WorkEntry(staff_id=staff.id, day=day, minutes=minutes,
                         member_id=member.id if member else None, service_id=service.id,
                         status=status.value, created_by_id=staff.id, **extra)

    entries = []
    for member in rows:
        entries.append(entry(developer, past.start + timedelta(days=1), 120, member, dev,
                             EntryStatus.APPROVED, activity_id=activity.id))
        entries.append(entry(developer, last_month.start, 60, member, dev, EntryStatus.APPROVED))
        entries.append(entry(developer, today, 90, member, dev, EntryStatus.DRAFT))
        entries.append(entry(accountant, today, 45, member, compta, EntryStatus.DRAFT,
                             unit_type_id=unit.id, quantity=Decimal("3.000")))
    entries.append(entry(developer, today, 60, None, dev, EntryStatus.DRAFT))
    db.add_all(entries)
    db.flush()

    treasurer = users[Role.TREASURER]
    run = store_period(db, past, user_id=treasurer.id)
    approve(db, run, user_id=treasurer.id)
    waiting = store_period(db, last_month, user_id=treasurer.id)
    prepare_invoices(db, past)
    # Through the app's use cases, so that the ledger posts the sales and bank entries too.
    issued = issue_period(db, past, issue_date=past.end + timedelta(days=1), issued_by="test")
    for invoice in issued[: len(rows) // 2]:
        pay(db, member=invoice.member, paid_on=past.end + timedelta(days=5),
            amount=invoice.total_incl_tax, invoices=[invoice], today=past.end + timedelta(days=5))
    db.flush()
    return Cluster(today=today, members=rows, services={"COMPTA": compta, "DEV": dev},
                   users=users, past=past, last_month=last_month, invoices=issued,
                   runs=[run, waiting])


def last_day(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
