"""A large synthetic cluster for the benchmarks: N members, staff, services, years of work.

Defaults follow the size asked of the software (DESIGN §8): ``members=1000`` gives 50 staff,
20 services and 1 000 000 work entries. Members, figures, staff, work entries, costs and
subsidies are written with bulk inserts (:mod:`app.demo.bulk`); the carrier, the services and
the demo users go through the ORM and the configuration path like any other change.
Everything is drawn from one seeded generator: the same spec gives the same database.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import luhn

from accounting.audit import record_audit
from accounting.costs import Cost, Subsidy
from accounting.org import Member, MemberFigures, Role, Service, User
from app.configuration import apply_configuration
from app.demo import DemoReport, ensure_activities, ensure_demo_users
from app.demo.bulk import Preparer, bulk_insert
from app.demo.work import (
    generated_count,
    insert_work_entries,
    key_prefix,
    working_days,
    year_generated,
)
from timesheets.models import Activity, EntryStatus, UnitType, WorkEntry

LEGAL_FORMS = [
    "Association", "SCOP", "SCIC", "Association intermédiaire", "Entreprise d'insertion",
    "Atelier et chantier d'insertion", "SAS", "SARL",
]  # fmt: skip
KINDS = ["Association", "Coopérative", "Atelier", "Entreprise", "Recyclerie", "Jardins",
         "Services", "Chantier"]  # fmt: skip
PLACES = ["de Trévoux", "du Val de Saône", "de la Dombes", "de Miribel", "de Montluel",
          "de la Côtière", "de Reyrieux", "de Jassans"]  # fmt: skip
SERVICE_NAMES = [
    "Comptabilité", "Paie", "Développement commercial", "Communication", "Informatique",
    "Ressources humaines", "Juridique", "Achats groupés", "Formation", "Qualité",
    "Logistique", "Entretien des locaux", "Transport", "Restauration", "Accueil",
    "Documentation", "Sécurité", "Énergie", "Numérique", "Animation",
]  # fmt: skip
STAFF_PASSWORD = "demo-equipe-2025"


@dataclass(frozen=True)
class SyntheticSpec:
    members: int
    years: int = 1
    seed: int = 1
    staff: int | None = None
    services: int | None = None
    #: Work entries over all the years (default: 1 000 per member).
    entries: int | None = None
    last_year: int = 2025

    def resolved(self) -> SyntheticSpec:
        """Defaults scaled on the number of members (1 000 -> 50 staff, 20 services, 1 M)."""
        if self.members < 1:
            raise ValueError("members must be at least 1")
        return replace(
            self,
            staff=self.staff or max(3, self.members // 20),
            services=self.services or min(20, max(3, self.members // 50)),
            entries=self.entries if self.entries is not None else self.members * 1000,
        )

    @property
    def first_year(self) -> int:
        return self.last_year - self.years + 1

    def key(self) -> str:
        """A name for this dataset (the benchmark cache file)."""
        s = self.resolved()
        return (
            f"m{s.members}-y{s.years}-s{s.seed}-st{s.staff}-sv{s.services}-e{s.entries}"
            f"-{s.last_year}"
        )


def fake_siret(number: int) -> str:
    """A fictitious SIRET with valid Luhn keys (SIREN 8xxxxxxxx, establishment 0001x)."""
    siren = f"{80_000_000 + number:08d}"
    siren += luhn.calc_check_digit(siren)
    siret = siren + "0001"
    return siret + luhn.calc_check_digit(siret)


def service_codes(spec: SyntheticSpec) -> list[str]:
    return [f"S{index:02d}" for index in range(1, (spec.services or 3) + 1)]


def member_code(index: int, total: int) -> str:
    return f"M{index:0{max(4, len(str(total)))}d}"


def build_synthetic(session: Session, spec: SyntheticSpec) -> DemoReport:
    spec = spec.resolved()
    rng = random.Random(spec.seed)
    report = DemoReport()
    codes = [member_code(i, spec.members) for i in range(1, spec.members + 1)]
    report.members = _members(session, spec, codes, random.Random(f"members-{spec.seed}"))
    report.config_changes = _configuration(session, spec, codes[0])
    report.member_accountant_of = codes[0]
    report.users, demo_staff = ensure_demo_users(session, codes[0])
    staff = _staff(session, spec, demo_staff)
    services = _services(session, spec)
    members = session.execute(
        select(Member.id, Member.joined_on, Member.left_on)
        .where(Member.code.in_(codes))
        .order_by(Member.code)
    ).all()
    per_year, extra = divmod(spec.entries or 0, spec.years)
    for offset, year in enumerate(range(spec.first_year, spec.last_year + 1)):
        if year_generated(session, year):
            continue
        count = per_year + (1 if offset < extra else 0)
        rows, prepared = _entries(session, spec, year, count, staff, services, members)
        report.work_entries += insert_work_entries(
            session,
            year,
            rows,
            prepared=prepared,
            detail={"seed": spec.seed, "synthetic": True},
            large=count >= 100_000,
        )
        costs, subsidies = _costs(session, spec, year, services, rng)
        report.costs += costs
        report.subsidies += subsidies
    return report


def _members(session: Session, spec: SyntheticSpec, codes: list[str], rng: random.Random) -> int:
    """Members (5 % join after the first day, 3 % leave in the last year) and their figures."""
    existing = set(session.scalars(select(Member.code).where(Member.code.in_(codes))))
    start, end = date(spec.first_year, 1, 1), date(spec.last_year, 12, 31)
    span = (end - start).days
    rows = []
    for index, code in enumerate(codes, start=1):
        joined, left = start, None
        draw = rng.random()
        if draw < 0.05:
            joined = start + timedelta(days=rng.randint(1, span - 1))
        elif draw < 0.08:
            left = date(spec.last_year, 1, 1) + timedelta(days=rng.randint(0, 360))
        if code in existing:
            continue
        name = f"{KINDS[index % len(KINDS)]} {PLACES[(index // 8) % len(PLACES)]} n° {index}"
        rows.append(
            (code, name, LEGAL_FORMS[index % len(LEGAL_FORMS)], fake_siret(index), None,
             f"{index} rue de l'Économie sociale\n01600 Trévoux", f"compta@{code.lower()}.example",
             joined, left)
        )  # fmt: skip
    session.flush()
    connection = session.connection()
    written = bulk_insert(
        connection,
        Member.__table__,
        ("code", "name", "legal_form", "siret", "vat_number", "address", "billing_email",
         "joined_on", "left_on"),
        rows,
    )  # fmt: skip
    query = select(Member.code, Member.id).where(Member.code.in_(codes))
    ids = {code: member_id for code, member_id in session.execute(query)}
    have = set(
        session.execute(
            select(MemberFigures.member_id, MemberFigures.year).where(
                MemberFigures.year.between(spec.first_year, spec.last_year)
            )
        ).all()
    )
    figures = []
    for code in codes:
        member_id = ids[code]
        for year in range(spec.first_year, spec.last_year + 1):
            revenue = Decimal(rng.randint(30_000, 3_000_000))
            headcount = Decimal(rng.randint(1, 150))
            row = (member_id, year, revenue, headcount, rng.randint(0, 80), rng.randint(0, 40))
            if (member_id, year) not in have:
                figures.append(row)
    bulk_insert(
        connection,
        MemberFigures.__table__,
        ("member_id", "year", "revenue", "headcount", "insertion_workers", "volunteers"),
        figures,
    )
    if written or figures:
        record_audit(
            session, "generate", "members", after={"members": written, "figures": len(figures)}
        )
    return written


def _configuration(session: Session, spec: SyntheticSpec, own_member: str) -> int:
    """The carrier and the services, through the configuration path."""
    services: list[dict[str, Any]] = []
    for index, code in enumerate(service_codes(spec), start=1):
        last = index == spec.services
        services.append(
            {
                "code": code,
                "name": "Frais de structure" if last else SERVICE_NAMES[(index - 1) % 20],
                "revenue_account": f"7061{index:02d}",
                "expense_account": "6226",
                "overheads_by": "costs" if last else None,
            }
        )
    data = {
        "carrier": {
            "code": "GROUPEMENT",
            "name": "Groupement de démonstration",
            "address": "1 place du Pôle\n01600 Trévoux",
            "siret": fake_siret(0),
            "siren": fake_siret(0)[:9],
            "member": own_member,
        },
        "services": services,
    }
    changes = apply_configuration(session, data, filename="synthetic").changes
    codes = service_codes(spec)
    for service in session.scalars(select(Service).where(Service.code.in_(codes))):
        ensure_activities(
            session,
            service,
            ["Production", "Conseil", "Coordination"],
            [{"name": "Unité simple", "weight": 1}, {"name": "Unité lourde", "weight": 5}],
        )
    return changes


def _staff(session: Session, spec: SyntheticSpec, demo_staff: dict[str, User]) -> list[int]:
    """The demo accountant and developer plus generated staff up to ``spec.staff``."""
    wanted = max(0, (spec.staff or 0) - 2)
    emails = [f"salarie{i:03d}@groupement.example" for i in range(1, wanted + 1)]
    existing = set(session.scalars(select(User.email).where(User.email.in_(emails))))
    template = User(email="x", name="x")
    template.set_password(STAFF_PASSWORD)
    rows = [
        (email, f"Salarié {i:03d}", template.password_hash,
         (Role.ACCOUNTANT if i % 2 else Role.DEVELOPER).value, True, 0)
        for i, email in enumerate(emails, start=1)
        if email not in existing
    ]  # fmt: skip
    session.flush()
    bulk_insert(
        session.connection(),
        User.__table__,
        ("email", "name", "password_hash", "roles", "active", "failed_logins"),
        rows,
    )
    ids = [demo_staff["accountant"].id, demo_staff["developer"].id]
    ids += list(session.scalars(select(User.id).where(User.email.in_(emails)).order_by(User.email)))
    return ids


@dataclass(frozen=True)
class _ServiceRefs:
    ids: list[int]
    overheads: int
    activities: dict[int, list[int]]
    units: dict[int, list[int]]


def _services(session: Session, spec: SyntheticSpec) -> _ServiceRefs:
    services = session.execute(
        select(Service.id, Service.overheads_by)
        .where(Service.code.in_(service_codes(spec)))
        .order_by(Service.code)
    ).all()
    activities: dict[int, list[int]] = {}
    for activity_id, service_id in session.execute(
        select(Activity.id, Activity.service_id).order_by(Activity.id)
    ):
        activities.setdefault(service_id, []).append(activity_id)
    units: dict[int, list[int]] = {}
    for unit_id, service_id in session.execute(
        select(UnitType.id, UnitType.service_id).order_by(UnitType.id)
    ):
        units.setdefault(service_id, []).append(unit_id)
    direct = [s.id for s in services if s.overheads_by is None]
    overheads = next((s.id for s in services if s.overheads_by), direct[-1])
    return _ServiceRefs(direct, overheads, activities, units)


#: Working days generated at a time (bounds the memory of the column arrays).
DAYS_PER_CHUNK = 20


def _entries(
    session: Session,
    spec: SyntheticSpec,
    year: int,
    count: int,
    staff: list[int],
    services: _ServiceRefs,
    members: list[Any],
) -> tuple[Iterator[tuple[Any, ...]], set[str]]:
    """``count`` entry tuples spread evenly over the staff's working days of ``year``.

    Drawn column by column with numpy (seeded by the spec's seed and the year), about ten
    times faster than a draw per value: each entry is on its staff's main service (75 %),
    another service (20 %) or the overheads as common work (5 %); 85 % of the others name a
    member (skewed towards the first ones, always one active on that day); 30 % carry units.
    """
    session.flush()
    prepare = Preparer(session.connection(), WorkEntry.__table__)
    days = working_days(year)
    last_month = year == spec.last_year
    n_staff = len(staff)
    counts = np.full(len(days) * n_staff, count // (len(days) * n_staff), dtype=np.int64)
    counts[: count % len(counts)] += 1
    direct = np.array(services.ids, dtype=np.int64)
    every_service = [*services.ids, services.overheads]
    row_of = {service_id: row for row, service_id in enumerate(every_service)}
    joined = np.array([m.joined_on.toordinal() for m in members], dtype=np.int64)
    left = np.array([m.left_on.toordinal() if m.left_on else 10**7 for m in members])
    start, end = days[0].toordinal(), days[-1].toordinal()
    service_row = np.zeros(max(every_service) + 1, dtype=np.int64)
    for service_id, row in row_of.items():
        service_row[service_id] = row
    draw = _EntryDraw(
        days=days,
        day_values=[prepare("day", day) for day in days],
        statuses=[
            (EntryStatus.SUBMITTED if last_month and day.month == 12 else EntryStatus.APPROVED)
            .value
            for day in days
        ],
        quantities=[prepare("quantity", Decimal(q)) for q in range(1, 21)],
        prefix=key_prefix("work", year),
        rng=np.random.default_rng([spec.seed, year]),
        n_staff=n_staff,
        counts=counts,
        steps=np.maximum(1, 480 // np.maximum(counts, 1) // 5),
        staff_ids=np.array(staff, dtype=np.int64),
        direct=direct,
        main_service=np.arange(n_staff) % len(direct),
        overheads=services.overheads,
        activities=np.array([services.activities[s][:3] for s in every_service], dtype=np.int64),
        units=np.array([services.units[s][:2] for s in every_service], dtype=np.int64),
        member_ids=np.array([m.id for m in members], dtype=np.int64),
        joined=joined,
        left=left,
        always=np.flatnonzero((joined <= start) & (left >= end)),
        ordinals=np.array([day.toordinal() for day in days], dtype=np.int64),
        service_row=service_row,
    )
    return _entry_chunks(draw), {"day", "quantity"}


@dataclass
class _EntryDraw:
    """What the entries of a year are drawn from: per-day values, entries per (day, staff)
    slot, and numpy arrays by staff, service row and member."""

    days: list[date]
    day_values: list[Any]
    statuses: list[str]
    quantities: list[Any]
    prefix: str
    rng: np.random.Generator
    n_staff: int
    counts: Any
    steps: Any
    staff_ids: Any
    direct: Any
    main_service: Any
    overheads: int
    activities: Any
    units: Any
    member_ids: Any
    joined: Any
    left: Any
    always: Any
    ordinals: Any
    service_row: Any


def _entry_chunks(draw: _EntryDraw) -> Iterator[tuple[Any, ...]]:
    """The entry tuples, drawn DAYS_PER_CHUNK days at a time."""
    number = 0
    days, n_staff, direct = draw.days, draw.n_staff, draw.direct
    for first in range(0, len(days), DAYS_PER_CHUNK):
        slots = slice(first * n_staff, min(len(days), first + DAYS_PER_CHUNK) * n_staff)
        per_slot = draw.counts[slots]
        slot_index = np.arange(slots.start, slots.stop)
        day = np.repeat(slot_index // n_staff, per_slot)
        who = np.repeat(slot_index % n_staff, per_slot)
        n = len(day)
        if n == 0:
            continue
        r = draw.rng.random((n, 9))
        minutes = 5 * (1 + (r[:, 0] * np.repeat(draw.steps[slots], per_slot)).astype(np.int64))
        overheads = r[:, 1] < 0.05
        service = np.where(
            r[:, 1] < 0.8,
            direct[draw.main_service[who]],
            direct[(r[:, 2] * len(direct)).astype(np.int64)],
        )
        service = np.where(overheads, draw.overheads, service)
        member = _entry_members(draw, r, day, overheads)
        rows = draw.service_row[service]
        activity = draw.activities[rows, (r[:, 6] * draw.activities.shape[1]).astype(np.int64)]
        has_unit = r[:, 7] < 0.3
        unit = np.where(
            has_unit, draw.units[rows, (r[:, 8] * draw.units.shape[1]).astype(np.int64)], -1
        )
        quantity = (r[:, 8] * 97).astype(np.int64) % 20
        staff_column = draw.staff_ids[who].tolist()
        day_list = day.tolist()
        yield from zip(
            staff_column,
            [draw.day_values[d] for d in day_list],
            minutes.tolist(),
            [m if m >= 0 else None for m in member.tolist()],
            service.tolist(),
            activity.tolist(),
            [u if u >= 0 else None for u in unit.tolist()],
            [
                draw.quantities[q] if u else None
                for q, u in zip(quantity.tolist(), has_unit.tolist(), strict=True)
            ],
            repeat("", n),
            [draw.statuses[d] for d in day_list],
            [f"{draw.prefix}{k:07d}" for k in range(number + 1, number + n + 1)],
            staff_column,
            staff_column,
            strict=True,
        )
        number += n


def _entry_members(draw: _EntryDraw, r: Any, day: Any, overheads: Any) -> Any:
    """The member of each entry (-1: none), skewed towards the first members and always one
    active on the entry's day."""
    n = len(day)
    member = -np.ones(n, dtype=np.int64)
    if len(draw.member_ids):
        pick = (r[:, 3] * r[:, 4] * len(draw.member_ids)).astype(np.int64)
        active = (draw.joined[pick] <= draw.ordinals[day]) & (draw.left[pick] >= draw.ordinals[day])
        if len(draw.always):
            pick = np.where(active, pick, draw.always[pick % len(draw.always)])
            active = np.ones(n, dtype=bool)
        named = ~overheads & (r[:, 5] < 0.85) & active
        member = np.where(named, draw.member_ids[pick], -1)
    return member


def _costs(
    session: Session, spec: SyntheticSpec, year: int, services: _ServiceRefs, rng: random.Random
) -> tuple[int, int]:
    """Each service: a salary, rent and a varying expense every month; quarterly subsidies."""
    prefix = key_prefix("cost", year)
    if generated_count(session, Cost.__table__, prefix):
        return 0, 0
    columns = ("service_id", "day", "amount", "account", "label", "party", "reference",
               "attachment_name", "import_key")  # fmt: skip
    costs, subsidies = [], []
    number = 0
    for service_id in [*services.ids, services.overheads]:
        for month in range(1, 13):
            day = date(year, month, 28)
            for account, label, low, high in (
                ("641100", "Salaires et charges", 150_000, 900_000),
                ("613200", "Loyer", 20_000, 120_000),
                ("606400", "Fournitures", 1_000, 30_000),
            ):
                amount = Decimal(rng.randint(low, high)).scaleb(-2)
                number += 1
                costs.append((service_id, day, amount, account, label, "Fournisseur", "",
                              "", f"{prefix}{number:05d}"))  # fmt: skip
            if month % 3 == 0 and service_id % 2 == 0:
                number += 1
                amount = Decimal(rng.randint(100_000, 500_000)).scaleb(-2)
                subsidies.append((service_id, day, amount, "744000", "Subvention trimestrielle",
                                  "Région", "", "", f"{prefix}{number:05d}"))  # fmt: skip
    connection = session.connection()
    written_costs = bulk_insert(connection, Cost.__table__, columns, costs)
    written_subsidies = bulk_insert(connection, Subsidy.__table__, columns, subsidies)
    record_audit(
        session, "generate", "costs", object_id=year,
        after={"costs": written_costs, "subsidies": written_subsidies},
    )  # fmt: skip
    session.flush()
    return written_costs, written_subsidies
