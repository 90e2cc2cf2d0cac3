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
        """(member, its amount under each candidate; None where a candidate was refused or
        leaves it out), by member code. Read from the amounts, not the shares: building
        1 000 explained shares per candidate cost the key editor more than its allocation."""
        refs = self.result.member_by_code
        amounts = [c.allocation.amounts if c.allocation is not None else {}
                   for c in self.candidates]
        codes = sorted(set().union(*amounts))
        return [(refs[code], [by_code.get(code) for by_code in amounts]) for code in codes]


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
            if item.allocation is not None and item.key is not None \
                    and candidate.key == item.key.key:
                # The key in force (as stored or as the editor writes it in French): the same
                # inputs, so the allocation ``compute_period`` made already.
                candidate.allocation = item.allocation
            else:
                candidate.allocation = allocate(
                    item.pool, candidate.key, item.bases, result.days, item.common_minutes,
                    item.common_units, year=result.year,
                )
        except AllocationError as error:
            candidate.error = error
    return KeyComparison(result, item, candidates)
