"""A revision previewed before the treasurer chooses (DESIGN §5b): per service, the budget in
force, what the calls issued so far asked, and the remaining calls in each of the three
catch-up modes side by side. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.budgets.budgets import current_budgets, schedule_of
from accounting.budgets.calls import called_so_far, schedule_codes
from accounting.budgets.models import Budget, CatchUp
from accounting.budgets.plan import CallPlan, preview
from accounting.money import ZERO
from accounting.org import Service
from accounting.periods import parse_period_code


@dataclass(frozen=True)
class RevisionRow:
    service: Service
    budget: Budget
    called: Decimal
    #: The labels of the calls not yet issued (« T3 2025 », …).
    remaining_codes: tuple[str, ...]
    plans: dict[CatchUp, CallPlan]

    @property
    def net(self) -> Decimal:
        return self.budget.net


def revision_preview(session: Session, year: int) -> list[RevisionRow]:
    """One row per budgeted service, in service-code order."""
    schedule = schedule_of(session, year)
    codes = schedule_codes(schedule)
    starts = [parse_period_code(code)[1] for code in codes]
    called = called_so_far(session, year)
    rows = []
    for service_id, budget in sorted(current_budgets(session, year).items(),
                                     key=lambda kv: kv[1].service.code):
        by_start = called.get(service_id, {})
        issued = [s for s in starts if s in by_start]
        done = [by_start[s] for s in starts[: len(issued)]]
        rows.append(RevisionRow(
            budget.service, budget, sum(done, ZERO), tuple(codes[len(issued):]),
            preview(budget.net, len(codes), done),
        ))  # fmt: skip
    return rows
