"""The demo: the cluster of the seed document, or a large generated cluster for benchmarks.

``load_demo(session)`` loads Val Horizon and its nine partner enterprises (``cluster.yaml``,
applied through the configuration path), one user per role, and a deterministic year of work
entries, costs and subsidies. ``load_demo(session, members=N, years=Y, seed=S)`` builds a
synthetic cluster of N members with bulk inserts instead (1 000 members, 50 staff, 20 services
and 1 000 000 work entries in well under a minute on SQLite).

Invariants: deterministic (the same parameters give the same data, minute for minute and cent
for cent); idempotent (running it again duplicates nothing: configuration applied field by
field, users found by e-mail, generated rows keyed by ``import_key``); everything it writes is
in the audit log (row by row through the ORM, one summary event per bulk insert). Flushes
only: the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Member, Role, Service, User
from timesheets.models import Activity, UnitType

#: The fiscal year the demo's work, costs and figures belong to (the last one with --years).
DEMO_YEAR = 2025


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    password: str
    #: What this user logs work on in the demo (the staff), for the generator.
    staff_role: str | None = None
    #: Civility (accounting.org.Gender value): the titles agree (« Chargée de développement »).
    gender: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("coordination@valhorizon.example", "Claire Dumas", Role.ADMIN,
             "demo-pilotage-2025", "admin", "female"),
    DemoUser("comptable@valhorizon.example", "Julien Perrin", Role.ACCOUNTANT,
             "demo-ecritures-2025", "accountant", "male"),
    DemoUser("developpement@valhorizon.example", "Sophie Bernard", Role.DEVELOPER,
             "demo-prospection-2025", "developer", "female"),
    DemoUser("tresorier@valhorizon.example", "Marc Lefèvre", Role.TREASURER, "demo-budget-2025",
             None, "male"),
    DemoUser("comptable@servemploi.example", "Nadia Roux", Role.MEMBER_ACCOUNTANT,
             "demo-bilan-2025", None, "female"),
)  # fmt: skip
#: The member the demo member accountant works for (the first member in a generated cluster).
DEMO_MEMBER = "SERVEMPLOI"


@dataclass
class DemoReport:
    """What a demo run did, for the CLI to print."""

    config_changes: int = 0
    #: (user, created now?) — an existing user keeps its password.
    users: list[tuple[DemoUser, bool]] = field(default_factory=list)
    member_accountant_of: str = ""
    members: int = 0
    work_entries: int = 0
    costs: int = 0
    subsidies: int = 0
    #: The past quarters (app.demo.history): runs approved, invoices issued, payments, closes.
    runs: int = 0
    invoices: int = 0
    payments: int = 0
    closed_periods: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.config_changes
            or any(created for _, created in self.users)
            or self.members
            or self.work_entries
            or self.costs
            or self.subsidies
            or self.runs
            or self.invoices
            or self.payments
            or self.closed_periods
        )


def ensure_demo_users(
    session: Session, member_code: str
) -> tuple[list[tuple[DemoUser, bool]], dict[str, User]]:
    """One user per role (found by e-mail, else created); returns them and the staff by role."""
    member = session.scalars(select(Member).where(Member.code == member_code)).one()
    outcome: list[tuple[DemoUser, bool]] = []
    staff: dict[str, User] = {}
    for demo in DEMO_USERS:
        user = session.scalars(select(User).where(User.email == demo.email)).one_or_none()
        created = user is None
        if user is None:
            user = User(email=demo.email, name=demo.name, gender=demo.gender)
            user.role_set = {demo.role}
            if demo.role is Role.MEMBER_ACCOUNTANT:
                user.member_id = member.id
            user.set_password(demo.password)
            session.add(user)
            session.flush()
        outcome.append((demo, created))
        if demo.staff_role:
            staff[demo.staff_role] = user
    return outcome, staff


def ensure_activities(
    session: Session,
    service: Service,
    activities: list[str],
    unit_types: list[dict[str, Any]],
) -> None:
    """Get-or-create a service's activities and unit types by name (flushes)."""
    names = set(session.scalars(select(Activity.name).where(Activity.service_id == service.id)))
    for name in activities:
        if name not in names:
            session.add(Activity(service_id=service.id, name=name))
    units = set(session.scalars(select(UnitType.name).where(UnitType.service_id == service.id)))
    for item in unit_types:
        if item["name"] not in units:
            session.add(
                UnitType(service_id=service.id, name=item["name"], weight=Decimal(item["weight"]))
            )
    session.flush()


def load_demo(
    session: Session,
    *,
    members: int | None = None,
    years: int = 1,
    seed: int = 1,
    staff: int | None = None,
    services: int | None = None,
    entries: int | None = None,
    last_year: int = DEMO_YEAR,
    cash_cycle: bool = False,
) -> DemoReport:
    """The seed cluster (``members`` None) or a generated cluster of ``members`` members."""
    if years < 1:
        raise ValueError("years must be at least 1")
    if members is None:
        from app.demo.cluster import load_seed_cluster

        return load_seed_cluster(session, years=years, seed=seed, last_year=last_year,
                                 cash_cycle=cash_cycle)
    from app.demo.synthetic import SyntheticSpec, build_synthetic

    spec = SyntheticSpec(
        members=members, years=years, seed=seed, staff=staff, services=services,
        entries=entries, last_year=last_year,
    )  # fmt: skip
    return build_synthetic(session, spec)
