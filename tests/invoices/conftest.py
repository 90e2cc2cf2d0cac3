"""Fixtures of the invoices tests: the worked example of DESIGN §4 (pool 16 000 €, key
25 % equal + 75 % hours, A 10 h, B 20 h, C 30 h → A 3 333,34, B 5 333,33, C 7 333,33),
approved, with a carrier and members whose mandatory mentions are complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationRun
from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Carrier, Member, Role, Service, User
from accounting.periods import Period, get_or_create_period
from app.allocation.services import approve, store_period
from app.database import make_engine
from app.models import metadata
from tests.conftest import TEST_PASSWORD, is_postgres
from timesheets.models import EntryStatus, WorkEntry

SIRETS = {"A": "44829012200010", "B": "51247896700015", "C": "32165498000010"}
CARRIER_SIRET = "78289943900015"


JANUARY = date(2026, 1, 1)


def postgres_worked_example(url: str, why: str) -> tuple[Engine, Session, Service]:
    """The worked example committed in a PostgreSQL database of its own, for the tests where
    several connections race (skipped on SQLite, ``why``): the carrier, a staff member who is
    treasurer, accountant and coordinator, members A, B, C with 10, 20 and 30 approved hours of
    January 2026, the service's key and a cost of 16 000 € on 641100. Returns the engine and
    an open session for the caller to add its own step and commit."""
    if not is_postgres(url):
        pytest.skip(why)
    engine = make_engine(url, pool_size=6)
    with engine.begin() as conn:
        metadata.create_all(conn)
    session = Session(engine)
    session.info["actor_label"] = "test"
    session.add(Carrier(code="VH", name="Val Horizon", address="Châtillon",
                        siret=CARRIER_SIRET, vat_number="FR81782899439"))
    compta = Service(code="COMPTA", name="Comptabilité / gestion")
    staff = User(email="tresorier@test.fr", name="Trésorier")
    staff.role_set = {Role.TREASURER, Role.ACCOUNTANT, Role.ADMIN}
    staff.set_password(TEST_PASSWORD)
    members = [Member(code=code, name=f"Adhérent {code}", siret=siret, address="Villars",
                      joined_on=date(2020, 1, 1)) for code, siret in SIRETS.items()]
    session.add_all([compta, staff, *members])
    session.flush()
    add_cost(session, CostInput(CostKind.COST, compta.id, date(2026, 1, 31),
                                Decimal("16000.00"), "641100", "Salaires"))
    for index, member in enumerate(members):  # 10 h, 20 h, 30 h over several days
        for extra in range(index + 1):
            session.add(WorkEntry(staff_id=staff.id,
                                  day=JANUARY + timedelta(days=3 * index + extra),
                                  minutes=600, member_id=member.id, service_id=compta.id,
                                  status=EntryStatus.APPROVED.value))
    set_key(session, compta, "25% equal + 75% hours", JANUARY)
    return engine, session, compta


@dataclass
class Billing:
    carrier: Carrier
    members: dict[str, Member]
    compta: Service
    period: Period
    run: AllocationRun | None


@pytest.fixture
def carrier(db: Session) -> Carrier:
    carrier = Carrier(
        code="VH",
        name="Association Val Horizon",
        address="12 rue de la Dombes\n01400 Châtillon-sur-Chalaronne",
        siret=CARRIER_SIRET,
        siren=CARRIER_SIRET[:9],
        vat_number="FR81782899439",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        email="compta@valhorizon.fr",
        payment_terms_days=30,
        late_penalty_rate=Decimal("12.00"),
    )
    db.add(carrier)
    db.flush()
    return carrier


def complete(member: Member) -> Member:
    member.siret = SIRETS.get(member.code)
    member.address = f"{member.code} place du Marché\n01330 Villars-les-Dombes"
    member.name = {"A": "Les Jardins de la Dombes", "B": "SCOP Bois & Co",
                   "C": "Entreprise d'insertion Val Saône"}.get(member.code, member.name)
    return member


def allocated_month(
    db: Session, make_member, make_service, make_user, *, month: str = "2026-01",
    hours: dict[str, int] | None = None, net: Decimal = Decimal("16000.00"),
) -> tuple[dict[str, Member], Service, Period]:
    """Members with complete identities, one service with ``net`` € to share in ``month`` by
    « 25 % equal + 75 % hours », and the hours logged (default A 10 h, B 20 h, C 30 h)."""
    hours = hours or {"A": 10, "B": 20, "C": 30}
    period = get_or_create_period(db, month)
    members = {code: complete(make_member(code)) for code in hours}
    compta = make_service("COMPTA", name="Comptabilité / gestion")
    staff = make_user()
    add_cost(db, CostInput(CostKind.COST, compta.id, period.end, net, "641100", "Salaires"))
    for code, count in hours.items():
        for day, chunk in enumerate(range(0, count, 10)):  # at most 10 h a day
            db.add(WorkEntry(staff_id=staff.id, day=period.start + timedelta(days=day),
                             minutes=min(10, count - chunk) * 60, member_id=members[code].id,
                             service_id=compta.id, status=EntryStatus.APPROVED.value))
    set_key(db, compta, "25% equal + 75% hours", date(2026, 1, 1))
    db.flush()
    return members, compta, period


@pytest.fixture
def unapproved(db: Session, make_member, make_service, make_user, carrier) -> Billing:
    members, compta, period = allocated_month(db, make_member, make_service, make_user)
    run = store_period(db, period)
    return Billing(carrier, members, compta, period, run)


@pytest.fixture
def billing(db: Session, unapproved: Billing) -> Billing:
    approve(db, unapproved.run)
    db.flush()
    return unapproved


ISSUED_ON = date(2026, 2, 5)
