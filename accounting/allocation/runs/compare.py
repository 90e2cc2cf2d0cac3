"""Candidate keys side by side on a period's figures, before the members vote."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.allocation.engine import Allocation, allocate
from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import Key, parse_key
from accounting.allocation.runs.compute import compute_period
from accounting.allocation.runs.results import (
    MemberRef,
    PeriodAllocation,
    ServiceAllocation,
    WorkTotals,
)
from accounting.periods import Period


@dataclass
class Candidate:
    """One candidate key tried on a period's figures."""

    text: str
    key: Key | None = None
    allocation: Allocation | None = None
    error: AllocationError | None = None


@dataclass
class KeyComparison:
    """Candidate keys side by side on the same pool and bases (the members decide before they
    vote): amounts per member for each candidate."""

    result: PeriodAllocation
    item: ServiceAllocation
    candidates: list[Candidate]

    def rows(self) -> list[tuple[MemberRef, list[Decimal | None]]]:
        refs = self.result.member_by_code
        codes = sorted({
            s.code for c in self.candidates if c.allocation for s in c.allocation.shares
        })
        return [
            (refs[code], [
                c.allocation[code].amount
                if c.allocation is not None and c.allocation.get(code) else None
                for c in self.candidates
            ])
            for code in codes
        ]


def compare_keys(
    session: Session, period: Period, work: WorkTotals, service_code: str, texts: Iterable[str]
) -> KeyComparison:
    """Allocate ``service_code``'s pool of ``period`` by each candidate key text (the key in
    force, if any, is not needed). Parse errors and refusals are kept per candidate."""
    result = compute_period(session, period, work, service_code)
    item = result.service(service_code)
    candidates = []
    for text in texts:
        candidate = Candidate(text)
        candidates.append(candidate)
        try:
            candidate.key = parse_key(text)
            candidate.allocation = allocate(
                item.pool, candidate.key, item.bases, result.days, item.common_minutes,
                item.common_units, year=result.year,
            )
        except AllocationError as error:
            candidate.error = error
    return KeyComparison(result, item, candidates)
