"""Budget against actual (DESIGN §5b): per service and month, the budget (the year's net pool
spread evenly over the months, to the cent), the actual net costs (costs − subsidies booked)
of the months gone, and the forecast to year-end: actual so far + budget for the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.budgets.budgets import current_budgets
from accounting.budgets.plan import regular_calls
from accounting.cost_models import CostKind, totals_by_service
from accounting.money import ZERO
from accounting.org import Service
from accounting.periods import PeriodKind, period_bounds


@dataclass
class ServiceYear:
    service: Service
    budget: Decimal
    #: Per month (1…12): the budget, and the actual when the month is over (else None).
    monthly_budget: list[Decimal] = field(default_factory=list)
    monthly_actual: list[Decimal | None] = field(default_factory=list)

    @property
    def actual_to_date(self) -> Decimal:
        return sum((a for a in self.monthly_actual if a is not None), ZERO)

    @property
    def forecast(self) -> Decimal:
        """Actual of the months gone + budget of the months to come."""
        return sum(
            (a if a is not None else b
             for a, b in zip(self.monthly_actual, self.monthly_budget, strict=True)),
            ZERO,
        )

    @property
    def gap(self) -> Decimal:
        """Forecast − budget: positive when the year will cost more than voted."""
        return self.forecast - self.budget


def budget_vs_actual(session: Session, year: int, today: date | None = None) -> list[ServiceYear]:
    """One row per budgeted service (service-code order); months ending before ``today`` are
    gone (their actual counts), the others are forecast by the budget."""
    today = today or date.today()
    budgets = current_budgets(session, year)
    if not budgets:
        return []
    actual: list[dict[int, Decimal] | None] = []
    for month in range(1, 13):
        start, end = period_bounds(PeriodKind.MONTH, year, month)
        if end >= today:
            actual.append(None)
            continue
        costs = totals_by_service(session, CostKind.COST, start, end)
        subsidies = totals_by_service(session, CostKind.SUBSIDY, start, end)
        actual.append({sid: costs.get(sid, ZERO) - subsidies.get(sid, ZERO)
                       for sid in set(costs) | set(subsidies)})
    rows = []
    for service_id, budget in sorted(budgets.items(), key=lambda kv: kv[1].service.code):
        rows.append(ServiceYear(
            budget.service, budget.net, regular_calls(budget.net, 12),
            [None if m is None else m.get(service_id, ZERO) for m in actual],
        ))  # fmt: skip
    return rows
