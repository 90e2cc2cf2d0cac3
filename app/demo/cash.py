"""The demo's year of cash (DESIGN §5b, ``mutualise demo --cash-cycle``): a shared-premises
service « Locaux partagés » whose 2025 budget was voted in December 2024, called each quarter
(Sol'Tiss joins on 1 April: prorated from the second call), revised in June (energy), and
trued up in January 2026 once its 2025 allocation is approved.

The steps run between the history's quarters (``app.demo.history.load_history`` calls
:func:`step` before each quarter) so that the number series stays chronological: the calls are
dated on the 1st of their quarter, before that quarter's invoices. Opt-in: the true-up invoices
the year 2025, which locks it (the plain demo leaves its fourth quarter open for the journeys).

Idempotent: a service, budget, revision or call already there is not made again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.models import AllocationKey
from accounting.allocation.runs import set_key
from accounting.budgets.budgets import LineInput, current_budget, save_budget, set_schedule
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import LineKind, TrueUp
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Service
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period

SERVICE = "LOCAUX"
RENT, ENERGY, SUBSIDY = ("613200", "606100", "740000")


def _budget_lines(energy: str) -> list[LineInput]:
    return [LineInput(LineKind.COST, RENT, Decimal("36000.00"), "Loyer des locaux partagés"),
            LineInput(LineKind.COST, ENERGY, Decimal(energy), "Électricité et chauffage"),
            LineInput(LineKind.SUBSIDY, SUBSIDY, Decimal("4000.00"), "Région : tiers-lieu")]


def _service(session: Session, year: int) -> Service:
    service = session.scalars(select(Service).where(Service.code == SERVICE)).first()
    if service is None:
        service = Service(code=SERVICE, name="Locaux partagés", revenue_account="708300")
        session.add(service)
        session.flush()
    if session.scalar(select(AllocationKey.id).where(AllocationKey.service_id == service.id)
                      .limit(1)) is None:  # fmt: skip
        set_key(session, service, "equal", date(year, 1, 1))
        for month in range(1, 13):  # rent and energy each month, the subsidy in June
            day = date(year, month, 28)
            add_cost(session, CostInput(CostKind.COST, service.id, day, Decimal("3000.00"),
                                        RENT, f"Loyer {month:02d}/{year}"))
            add_cost(session, CostInput(CostKind.COST, service.id, day,
                                        Decimal("520.00") if month > 5 else Decimal("410.00"),
                                        ENERGY, f"Énergie {month:02d}/{year}"))
        add_cost(session, CostInput(CostKind.SUBSIDY, service.id, date(year, 6, 30),
                                    Decimal("4000.00"), SUBSIDY, "Région : tiers-lieu"))
    return service


def _call(session: Session, code: str, day: date) -> None:
    from accounting.budgets.calls import _already_called, issue_calls

    if not _already_called(session, get_or_create_period(session, code)):
        issue_calls(session, code, issue_date=day, issued_by="démo")


def step(session: Session, year: int, quarter: int) -> None:
    """What the treasurer did before ``quarter``'s invoices: the vote and the first two calls
    (1), the June revision and the third call (2), the fourth call (3)."""
    service = _service(session, year)
    if quarter == 1:
        if current_budget(session, service.id, year) is None:
            save_budget(session, service, year, agreed_on=date(year - 1, 12, 12),
                        agreed_by="Assemblée générale", lines=_budget_lines("5000.00"),
                        created_by="démo")
            set_schedule(session, year, frequency="quarterly", catch_up="spread")
        _call(session, f"{year}-T1", date(year, 1, 2))
        _call(session, f"{year}-T2", date(year, 4, 1))
    elif quarter == 2:
        budget = current_budget(session, service.id, year)
        if budget is not None and budget.revision == 1:
            save_budget(session, service, year, agreed_on=date(year, 6, 16), agreed_by="Bureau",
                        reason="Hausse du prix de l'énergie", lines=_budget_lines("6200.00"),
                        created_by="démo")
        _call(session, f"{year}-T3", date(year, 7, 1))
    elif quarter == 3:
        _call(session, f"{year}-T4", date(year, 10, 1))


def close_year(session: Session, year: int) -> int:
    """The year's allocation of the service approved, then the true-up (January next year);
    returns the documents issued (0 when already done)."""
    from accounting.budgets.trueup import true_up

    if session.scalar(select(TrueUp.id).where(TrueUp.year == year).limit(1)) is not None:
        return 0
    period = get_or_create_period(session, str(year))
    run = store_period(session, period, SERVICE, note="Répartition de l'exercice (démo)")
    approve(session, run, work_override="Locaux partagés : clé à parts égales, sans temps saisi")
    try:
        return len(true_up(session, year, issue_date=date(year + 1, 1, 15),
                           issued_by="démo").documents)
    except BudgetError:
        return 0
