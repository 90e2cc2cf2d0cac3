"""Entering budgets (each save is a new revision, never an edit) and the call schedule of a
year, with the refusals of DESIGN §5b: a budget for a closed fiscal year, a schedule that
would change calls already issued. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import parse_key
from accounting.budgets.errors import BudgetClosedYear, BudgetError, ScheduleOverlap
from accounting.budgets.models import (
    Budget,
    BudgetLine,
    CallSchedule,
    CatchUp,
    Frequency,
    LineKind,
)
from accounting.invoicing.amounts import InvoiceRole, InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.org import Service
from accounting.periods import Period, PeriodKind, PeriodStatus, closed_period_containing


@dataclass(frozen=True)
class LineInput:
    """An expected cost or subsidy, as typed or imported."""

    kind: LineKind
    account: str
    amount: Decimal
    label: str = ""


def refuse_closed_year(session: Session, year: int) -> None:
    """A budget (or its revision) for a fiscal year whose books are closed is refused."""
    closed_year = session.scalar(
        select(func.count(Period.id)).where(
            Period.kind == PeriodKind.YEAR.value, Period.start == date(year, 1, 1),
            Period.status == PeriodStatus.CLOSED.value,
        )
    )
    last_day = closed_period_containing(session, date(year, 12, 31))
    if closed_year or last_day is not None:
        raise BudgetClosedYear(
            f"L'exercice {year} est clôturé : son budget ne peut plus être voté ni révisé."
        )


def save_budget(
    session: Session, service: Service, year: int, *, agreed_on: date, agreed_by: str,
    lines: Sequence[LineInput], reason: str = "", call_key: str = "", created_by: str = "",
) -> Budget:
    """Record a vote: the first budget of (service, year), or its next revision."""
    refuse_closed_year(session, year)
    if not agreed_by.strip():
        raise BudgetError("Indiquez l'instance qui a voté le budget (assemblée, bureau…).")
    if not lines:
        raise BudgetError("Un budget compte au moins une ligne (charge ou subvention).")
    for number, line in enumerate(lines, start=1):
        if line.amount < 0:
            raise BudgetError(f"Ligne {number} : le montant doit être positif ou nul.")
        if not line.account.strip():
            raise BudgetError(f"Ligne {number} : le compte est obligatoire.")
    if call_key.strip():
        try:
            parse_key(call_key)
        except AllocationError as error:
            raise BudgetError(f"Clé des appels illisible : {error}") from error
    current = current_budget(session, service.id, year)
    if current is not None and not reason.strip():
        raise BudgetError(
            f"Le budget {year} de {service.name} est déjà voté : une révision dit pourquoi."
        )
    budget = Budget(
        service_id=service.id, year=year, revision=(current.revision + 1) if current else 1,
        agreed_on=agreed_on, agreed_by=agreed_by.strip(), reason=reason.strip(),
        call_key=call_key.strip(), created_by=created_by,
    )
    for position, line in enumerate(lines, start=1):
        budget.lines.append(BudgetLine(
            position=position, kind=LineKind(line.kind).value, account=line.account.strip(),
            label=line.label.strip(), amount=line.amount,
        ))  # fmt: skip
    session.add(budget)
    session.flush()
    return budget


def current_budget(session: Session, service_id: int, year: int) -> Budget | None:
    return session.scalars(
        select(Budget).where(Budget.service_id == service_id, Budget.year == year)
        .order_by(Budget.revision.desc()).limit(1)
    ).first()


def current_budgets(session: Session, year: int) -> dict[int, Budget]:
    """service id → the revision in force of its budget for ``year``."""
    result: dict[int, Budget] = {}
    for budget in session.scalars(
        select(Budget).where(Budget.year == year).order_by(Budget.revision)
        .options(selectinload(Budget.lines), selectinload(Budget.service))
    ):
        result[budget.service_id] = budget
    return result


def revisions(session: Session, service_id: int, year: int) -> list[Budget]:
    return list(session.scalars(
        select(Budget).where(Budget.service_id == service_id, Budget.year == year)
        .order_by(Budget.revision).options(selectinload(Budget.lines))
    ))


def schedule_of(session: Session, year: int) -> CallSchedule:
    """The schedule of ``year`` (quarterly, spread, on the 1st when none was set)."""
    schedule = session.scalars(select(CallSchedule).where(CallSchedule.year == year)).first()
    return schedule or CallSchedule(
        year=year, frequency=Frequency.QUARTERLY.value, catch_up=CatchUp.SPREAD.value, day=1
    )


def issued_call_periods(session: Session, year: int) -> list[Period]:
    """The periods of ``year`` with an issued call, in order."""
    return list(session.scalars(
        select(Period).where(Period.id.in_(
            select(Invoice.period_id).where(
                Invoice.role == InvoiceRole.CALL.value,
                Invoice.status != InvoiceStatus.DRAFT.value,
                Invoice.service_start >= date(year, 1, 1),
                Invoice.service_start <= date(year, 12, 31),
            )
        )).order_by(Period.start)
    ))


def set_schedule(
    session: Session, year: int, *, frequency: Frequency | str,
    catch_up: CatchUp | str = CatchUp.SPREAD, day: int = 1,
) -> CallSchedule:
    """Set how often ``year``'s funds are called; refused when calls are already issued on
    another rhythm (the new schedule would overlap them)."""
    frequency, catch_up = Frequency(frequency), CatchUp(catch_up)
    if not 1 <= day <= 28:
        raise BudgetError("Le jour d'appel doit être entre 1 et 28.")
    issued = issued_call_periods(session, year)
    wanted = PeriodKind.MONTH if frequency is Frequency.MONTHLY else PeriodKind.QUARTER
    clash = [p for p in issued if p.kind != wanted.value]
    if clash:
        raise ScheduleOverlap(
            f"Des appels {year} sont déjà émis ({', '.join(p.label for p in clash)}) : un "
            f"calendrier {frequency.label} les chevaucherait. Gardez le calendrier actuel."
        )
    schedule = session.scalars(select(CallSchedule).where(CallSchedule.year == year)).first()
    if schedule is None:
        schedule = CallSchedule(year=year)
        session.add(schedule)
    schedule.frequency, schedule.catch_up, schedule.day = frequency.value, catch_up.value, day
    session.flush()
    return schedule
