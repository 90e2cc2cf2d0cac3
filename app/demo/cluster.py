"""The demo cluster of the seed document: Val Horizon and nine other enterprises.

The organisation comes from ``cluster.yaml`` through the configuration path (the same code as
``mutualise setup``). The year of work and the costs are generated here, deterministically from
the seed: the same seed gives the same entries, minute for minute.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.costs import Cost, CostInput, CostKind, CostNature, Subsidy, add_cost
from accounting.fec import add_months
from accounting.org import Member, Service, User
from app.configuration import apply_configuration, load_configuration, service_sections
from app.demo import DEMO_MEMBER, DemoReport, ensure_activities, ensure_demo_users
from app.demo.history import load_history
from app.demo.work import (
    generated_count,
    insert_work_entries,
    key_prefix,
    working_days,
    year_generated,
)
from timesheets.models import Activity, EntryStatus, UnitType

CLUSTER_FILE = Path(__file__).with_name("cluster.yaml")

#: Relative workload of each member for the shared accountant and the development officer.
ACCOUNTING_WEIGHT = {
    "VALHORIZON": 5, "SERVEMPLOI": 4, "COTESERV": 4, "AIDVS": 2, "SERVDOM": 2, "SVP": 2,
    "DESSICA": 2, "RECYCLERIE": 1.5, "SOLSTISS": 1, "TREMPLIN": 2,
}  # fmt: skip
DEVELOPMENT_WEIGHT = {
    "VALHORIZON": 1, "SERVEMPLOI": 2, "COTESERV": 2, "AIDVS": 2, "SERVDOM": 3, "SVP": 3,
    "DESSICA": 3, "RECYCLERIE": 2, "SOLSTISS": 2, "TREMPLIN": 1,
}  # fmt: skip
#: Members liable to VAT (they have a VAT number): a monthly VAT return.
VAT_LIABLE = {"SERVDOM", "SVP", "DESSICA"}
#: ISO weeks of leave per staff role.
LEAVE_WEEKS = {
    "accountant": {8, 31, 32, 33, 52},
    "developer": {16, 30, 31, 32, 52},
    "admin": {31, 32, 33, 52},
}


def load_cluster_configuration(session: Session) -> tuple[int, dict[str, str]]:
    """Apply cluster.yaml; service sections without a registered handler are set aside and
    handled by :func:`_fallback_sections` (activities, unit types) or reported (keys)."""
    data, lines = load_configuration(CLUSTER_FILE.read_bytes())
    handled = service_sections()
    set_aside: dict[str, dict[str, Any]] = {}
    for service in data.get("services", []):
        for name in ("activities", "unit_types", "keys"):
            if name in service and name not in handled:
                set_aside.setdefault(service["code"], {})[name] = service.pop(name)
    result = apply_configuration(session, data, filename=CLUSTER_FILE.name, lines=lines)
    deferred = _fallback_sections(session, set_aside)
    return result.changes, deferred


def _fallback_sections(session: Session, set_aside: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Until the timesheets area registers its handlers, create the activities and unit types
    of the file directly (get-or-create by name); keys without a handler are skipped."""
    notes: dict[str, str] = {}
    for code, values in set_aside.items():
        service = session.scalars(select(Service).where(Service.code == code)).one()
        ensure_activities(
            session, service, values.get("activities", []), values.get("unit_types", [])
        )
        for name in values:
            notes[name] = (
                "skipped: no handler is registered for services[].keys yet"
                if name == "keys"
                else "applied by the demo's fallback (no handler is registered yet)"
            )
    return notes


def load_seed_cluster(
    session: Session, *, years: int, seed: int, last_year: int, cash_cycle: bool = False
) -> DemoReport:
    """Configuration, users, each year's work entries, costs and subsidies, then the first
    quarters of the last year allocated, invoiced and partly paid (app.demo.history); with
    ``cash_cycle``, the year's budget, calls, revision and true-up too (app.demo.cash)."""
    report = DemoReport(member_accountant_of=DEMO_MEMBER)
    report.config_changes, deferred = load_cluster_configuration(session)
    report.notes.extend(f"services[].{name}: {note}" for name, note in sorted(deferred.items()))
    report.users, staff = ensure_demo_users(session, DEMO_MEMBER)
    for year in range(last_year - years + 1, last_year + 1):
        report.work_entries += generate_work(session, year, seed, staff)
        costs, subsidies = generate_costs(session, year, seed, staff["accountant"])
        report.costs += costs
        report.subsidies += subsidies
    before = None
    if cash_cycle:
        from app.demo import cash

        def before(quarter: int) -> None:
            cash.step(session, last_year, quarter)

    history = load_history(session, last_year, before)
    if cash_cycle:
        report.invoices += cash.close_year(session, last_year)
    report.runs, report.invoices = history.runs, report.invoices + history.invoices
    report.payments, report.closed_periods = history.payments, history.closed
    return report


# ------------------------------------------------------------------------------ work


@dataclass(frozen=True)
class _Refs:
    members: dict[str, Member]
    services: dict[str, int]
    activities: dict[tuple[str, str], int]
    units: dict[tuple[str, str], int]


def _refs(session: Session) -> _Refs:
    services = {s.code: s.id for s in session.scalars(select(Service))}
    by_id = {v: k for k, v in services.items()}
    return _Refs(
        members={m.code: m for m in session.scalars(select(Member))},
        services=services,
        activities={(by_id[a.service_id], a.name): a.id for a in session.scalars(select(Activity))},
        units={(by_id[u.service_id], u.name): u.id for u in session.scalars(select(UnitType))},
    )


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` minutes in ``parts`` pieces, each a multiple of 15 and at least 15."""
    quarters = total // 15
    cuts = sorted(rng.sample(range(1, quarters), parts - 1)) if parts > 1 else []
    return [15 * (b - a) for a, b in pairwise([0, *cuts, quarters])]


def _pick(rng: random.Random, weights: dict[str, float], active: list[str]) -> str:
    return rng.choices(active, weights=[weights[c] for c in active])[0]


class _Rows:
    """Builds entry tuples in WORK_COLUMNS order, numbering their import keys."""

    def __init__(self, refs: _Refs, year: int) -> None:
        self.refs = refs
        self.prefix = key_prefix("work", year)
        self.number = 0

    def __call__(
        self,
        who: User,
        day: date,
        minutes: int,
        member: str | None,
        service: str,
        activity: str,
        unit: str | None = None,
        quantity: int | None = None,
        note: str = "",
    ) -> tuple[Any, ...]:
        self.number += 1
        refs = self.refs
        status = EntryStatus.APPROVED if day.month < 12 else EntryStatus.SUBMITTED
        return (
            who.id,
            day,
            minutes,
            refs.members[member].id if member else None,
            refs.services[service],
            refs.activities[(service, activity)],
            refs.units[(service, unit)] if unit else None,
            Decimal(quantity) if unit else None,
            note,
            status.value,
            f"{self.prefix}{self.number:07d}",
            who.id,
            who.id,
        )


MEETING = "Réunion mensuelle des membres du pôle"


def _accountant_day(
    rng: random.Random, row: _Rows, who: User, day: date, active: list[str], closed: set[str]
) -> Iterator[tuple[Any, ...]]:
    """Payroll early in the month, VAT returns mid-month, closings in spring, bookkeeping."""
    if not active:
        return
    total = 405 + 15 * rng.randint(0, 4)
    for minutes in _split(rng, total, rng.randint(2, 4)):
        member = _pick(rng, ACCOUNTING_WEIGHT, active)
        draw = rng.random()
        work = ("COMPTA", "Saisie comptable", "Écriture comptable", max(1, minutes // 3), "")
        if day.day <= 7 and draw < 0.45:
            work = ("COMPTA", "Paie", "Bulletin de paie", rng.randint(3, 14), "")
        elif 10 <= day.day <= 20 and member in VAT_LIABLE and draw < 0.3:
            work = ("COMPTA", "Déclarations fiscales et sociales", "Déclaration de TVA", 1, "")
        elif 2 <= day.month <= 5 and draw < 0.35:
            first = member not in closed
            closed.add(member)
            note = f"Bilan et comptes annuels {day.year - 1}"
            work = ("COMPTA", "Clôture annuelle", "Clôture annuelle" if first else None, 1, note)
        elif draw > 0.9:
            work = ("COMPTA", "Conseil de gestion", None, None, "")
        service, activity, unit, quantity, note = work
        yield row(who, day, minutes, member, service, activity, unit, quantity, note)


def _developer_day(
    rng: random.Random, row: _Rows, who: User, day: date, active: list[str]
) -> Iterator[tuple[Any, ...]]:
    """Common studies (micro-crèches, then the CAE), the monthly meeting, member support."""
    service = "DEVELOPPEMENT"
    total = 390 + 15 * rng.randint(0, 5)
    if day.weekday() == 1 and day.day <= 7:
        yield row(who, day, 180, None, service, "Animation du pôle", note=MEETING)
        pieces = _split(rng, total - 180, 2)
    else:
        pieces = _split(rng, total, rng.randint(2, 3))
    for minutes in pieces:
        draw = rng.random()
        if draw < 0.3:
            study = "Étude micro-crèches" if day.month <= 6 else "Étude de faisabilité CAE"
            yield row(who, day, minutes, None, service, study)
            continue
        if draw < 0.35 or not active:
            yield row(who, day, minutes, None, service, "Animation du pôle")
            continue
        member = _pick(rng, DEVELOPMENT_WEIGHT, active)
        kind = rng.random()
        if kind < 0.45:
            activity, unit, quantity = "Prospection commerciale", "Rendez-vous", rng.randint(1, 3)
        elif kind < 0.85:
            activity, unit, quantity = "Accompagnement des adhérents", None, None
        else:
            activity, unit, quantity = "Réponse aux appels d'offres", "Dossier de financement", 1
        yield row(who, day, minutes, member, service, activity, unit, quantity)


def _coordinator_day(
    rng: random.Random, row: _Rows, who: User, day: date
) -> Iterator[tuple[Any, ...]]:
    """The coordinator's time is overheads: weekly coordination, the monthly meeting."""
    if day.weekday() == 0:
        yield row(who, day, 120, None, "FRAIS", "Coordination")
    if day.weekday() == 1 and day.day <= 7:
        yield row(who, day, 180, None, "FRAIS", "Gouvernance et réunions du pôle", note=MEETING)
    if day.weekday() == 4 and rng.random() < 0.5:
        yield row(who, day, 60, None, "FRAIS", "Administration")


def _entries(
    session: Session, year: int, seed: int, staff: dict[str, User]
) -> Iterator[tuple[Any, ...]]:
    """The year's entries of the accountant, the development officer and the coordinator."""
    refs = _refs(session)
    rng = random.Random(f"{seed}-{year}")
    row = _Rows(refs, year)
    closed: set[str] = set()
    for day in working_days(year):
        week = day.isocalendar().week
        active = [code for code, m in refs.members.items() if m.is_active_on(day)]
        if week not in LEAVE_WEEKS["accountant"]:
            yield from _accountant_day(rng, row, staff["accountant"], day, active, closed)
        if week not in LEAVE_WEEKS["developer"]:
            yield from _developer_day(rng, row, staff["developer"], day, active)
        if week not in LEAVE_WEEKS["admin"]:
            yield from _coordinator_day(rng, row, staff["admin"], day)


def generate_work(session: Session, year: int, seed: int, staff: dict[str, User]) -> int:
    """The year's work entries, unless that year was generated already."""
    if year_generated(session, year):
        return 0
    return insert_work_entries(
        session, year, _entries(session, year, seed, staff), detail={"seed": seed}
    )


# ------------------------------------------------------------------------------ costs

#: (service, day of month, amount, account, label, party, how it is posted), every month.
#: How: ("payroll", net pay, social body) — journal PA, net paid on the last working day,
#: contributions on the 15th of the next month; ("supplier", code, days to pay) — journal HA
#: against 401 + code, paid that many days later; ("other",) — paid directly (BQ).
MONTHLY_COSTS = [
    ("COMPTA", 28, "2450.00", "641100", "Salaire brut – comptable mutualisé", "Val Horizon",
     ("payroll", "1911.00", "431000")),
    ("COMPTA", 28, "1078.00", "645100", "Charges sociales – comptable mutualisé", "URSSAF",
     ("payroll", None, "431000")),
    ("COMPTA", 1, "89.00", "651100", "Abonnement logiciel de comptabilité", "Éditeur",
     ("supplier", "EDITEUR", 10)),
    ("DEVELOPPEMENT", 28, "2700.00", "641100", "Salaire brut – chargé de développement",
     "Val Horizon", ("payroll", "2106.00", "431000")),
    ("DEVELOPPEMENT", 28, "1188.00", "645100", "Charges sociales – chargé de développement",
     "URSSAF", ("payroll", None, "431000")),
    ("DEVELOPPEMENT", 1, "39.90", "626000", "Téléphone mobile", "Opérateur",
     ("supplier", "OPERATEUR", 15)),
    ("FRAIS", 1, "650.00", "613200", "Loyer des bureaux – Trévoux", "Commune de Trévoux",
     ("supplier", "TREVOUX", 5)),
    ("FRAIS", 28, "900.00", "641100", "Salaire – temps de coordination du pôle", "Val Horizon",
     ("payroll", "702.00", "431000")),
    ("FRAIS", 28, "12.50", "627000", "Frais bancaires", "Crédit Coopératif", ("other",)),
]  # fmt: skip
#: (service, month, day, amount, label, funder) of the year's subsidies (account 744000),
#: each received 45 days later.
SUBSIDIES = [
    ("DEVELOPPEMENT", 3, 15, "6000.00",
     "Contrat de développement durable Rhône-Alpes (CDDRA Dombes Saône)", "Région Rhône-Alpes"),
    ("DEVELOPPEMENT", 6, 30, "9000.00",
     "FSE Mesure 4-2.3 « Appui aux microprojets collectifs » (1er semestre)",
     "Fonds social européen"),
    ("DEVELOPPEMENT", 12, 30, "9000.00",
     "FSE Mesure 4-2.3 « Appui aux microprojets collectifs » (2e semestre)",
     "Fonds social européen"),
    ("FRAIS", 9, 15, "2500.00", "Soutien à la réflexion collective du pôle",
     "Communauté de communes Saône-Vallée"),
]  # fmt: skip
CostLine = tuple[CostKind, str, date, str, str, str, str, tuple[Any, ...]]


def _cost_lines(year: int, seed: int) -> Iterator[CostLine]:
    """(kind, service, day, amount, account, label, party, how) of the year, month by month."""
    rng = random.Random(f"costs-{seed}-{year}")
    for month in range(1, 13):
        for service, day, amount, account, label, party, how in MONTHLY_COSTS:
            yield (CostKind.COST, service, date(year, month, day), amount, account, label, party,
                   how)  # fmt: skip
        end = date(year, month, 28)
        travel = str(Decimal(rng.randint(8000, 26000)).scaleb(-2))
        label = "Déplacements sur le territoire Dombes – Val de Saône"
        yield (CostKind.COST, "DEVELOPPEMENT", end, travel, "625100", label, "Notes de frais",
               ("other",))  # fmt: skip
        supplies = str(Decimal(rng.randint(2000, 9000)).scaleb(-2))
        yield (CostKind.COST, "FRAIS", end, supplies, "606400", "Fournitures de bureau",
               "Papeterie", ("supplier", "PAPETERIE", 30))  # fmt: skip
        if month in (1, 4, 7, 10):
            yield (CostKind.COST, "FRAIS", date(year, month, 1), "210.00", "616000",
                   "Assurance multirisque (trimestre)", "Assureur", ("supplier", "ASSUREUR", 20))
    for service, month, day, amount, label, funder in SUBSIDIES:
        yield (CostKind.SUBSIDY, service, date(year, month, day), amount, "744000", label, funder,
               ("received", 45))  # fmt: skip


def _posting(day: date, how: tuple[Any, ...]) -> dict[str, Any]:
    """The CostInput fields that say how a demo cost is posted and paid."""
    if how[0] == "payroll":
        _, net, body = how
        social = add_months(day.replace(day=15), 1)
        return {"nature": CostNature.PAYROLL, "net_pay": Decimal(net) if net else None,
                "social_account": body, "paid_on": day if net else None,
                "social_paid_on": social}  # fmt: skip
    if how[0] == "supplier":
        _, code, days = how
        return {"nature": CostNature.SUPPLIER_INVOICE, "supplier_code": code,
                "paid_on": day + timedelta(days=days)}  # fmt: skip
    if how[0] == "received":
        return {"paid_on": day + timedelta(days=how[1])}
    return {"nature": CostNature.OTHER}


def generate_costs(session: Session, year: int, seed: int, user: User) -> tuple[int, int]:
    """Costs and subsidies of the year through the allocation area's own service (audited,
    closed periods refused); a year already generated is left alone."""
    prefix = key_prefix("cost", year)
    if generated_count(session, Cost.__table__, prefix) or generated_count(
        session, Subsidy.__table__, prefix
    ):
        return 0, 0
    services = {s.code: s.id for s in session.scalars(select(Service))}
    counts = {CostKind.COST: 0, CostKind.SUBSIDY: 0}
    for number, (kind, service, day, amount, account, label, party, how) in enumerate(
        _cost_lines(year, seed), start=1
    ):
        data = CostInput(
            kind=kind, service_id=services[service], day=day, amount=Decimal(amount),
            account=account, label=label, party=party, reference=f"DEMO-{year}-{number:04d}",
            **_posting(day, how),
        )  # fmt: skip
        add_cost(session, data, user_id=user.id, import_key=f"{prefix}{number:05d}")
        counts[kind] += 1
    return counts[CostKind.COST], counts[CostKind.SUBSIDY]
