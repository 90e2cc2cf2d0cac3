"""The « Charges » sheet's rows: every cost and subsidy of the services a run allocated, so a
treasurer can trace each pool back to the lines that make it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.allocation.runs import PeriodAllocation
from accounting.costs import Cost, lines_between


@dataclass(frozen=True)
class ChargeRow:
    """One cost or subsidy as the « Charges » sheet lists it."""

    day: date
    service: str
    kind: str  #: « Charge » or « Subvention »
    account: str
    label: str
    party: str
    reference: str
    amount: Decimal

    @property
    def effect(self) -> Decimal:
        """Its effect on the pool: + for a cost, − for a subsidy."""
        return self.amount if self.kind == "Charge" else -self.amount


def charges_for(session: Session, result: PeriodAllocation) -> list[ChargeRow]:
    """The costs and subsidies of the services in ``result`` (overheads included)."""
    codes = {s.service.id: s.service.code for s in result.services}
    if result.overheads is not None:
        codes[result.overheads.service.id] = result.overheads.service.code
    rows = []
    for line in lines_between(session, result.start, result.end):
        if line.service_id not in codes:
            continue
        rows.append(ChargeRow(
            line.day, codes[line.service_id],
            "Charge" if isinstance(line, Cost) else "Subvention",
            line.account, line.label, line.party, line.reference, line.amount,
        ))
    rows.sort(key=lambda r: (r.day, r.service, r.kind))
    return rows
