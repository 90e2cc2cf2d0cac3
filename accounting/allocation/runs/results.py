"""The shapes of a period's allocation, computed (a preview) or read back from a stored run:
``PeriodAllocation`` with one ``ServiceAllocation`` per service and the ``Overheads``; the work
logged comes in as ``WorkTotals``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from accounting.allocation.engine import ZERO, Allocation, MemberBasis, ServiceShare
from accounting.allocation.errors import AllocationError
from accounting.allocation.models import AllocationKey


@dataclass(frozen=True)
class WorkTotals:
    """Work logged in a period: minutes and units (Σ quantity × weight) per
    (service id, member id), member ``None`` being common work."""

    minutes: Mapping[tuple[int, int | None], int] = field(default_factory=dict)
    units: Mapping[tuple[int, int | None], Decimal] = field(default_factory=dict)
    #: entries of the period not approved yet (a warning, not a refusal)
    unapproved: int = 0

    def service_minutes(self) -> dict[int, int]:
        """Minutes per service, direct and common work together (the step-down by hours)."""
        result: dict[int, int] = defaultdict(int)
        for (service_id, _), minutes in self.minutes.items():
            result[service_id] += minutes
        return dict(result)


@dataclass(frozen=True)
class MemberRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class ServiceRef:
    id: int
    code: str
    name: str
    overheads_by: str | None = None


@dataclass
class ServiceAllocation:
    """One service of a period: its pool and its allocation (or the refusal)."""

    service: ServiceRef
    costs: Decimal
    subsidies: Decimal
    overheads: Decimal = ZERO
    overheads_share: ServiceShare | None = None
    key: AllocationKey | None = None
    allocation: Allocation | None = None
    error: AllocationError | None = None
    #: what ``inputs`` returns (``None``: built by ``inputs_of`` when first read)
    stored_inputs: dict[str, Any] | None = None
    #: the engine's inputs (every member), kept to try other keys on the same figures
    bases: tuple[MemberBasis, ...] = ()
    common_minutes: int = 0
    common_units: Decimal = ZERO
    #: builds ``inputs`` on first read: only a stored run, a workbook or a fingerprint reads
    #: them, and they list every member of every service (issue 16: built eagerly, they were
    #: a good part of the engine's fixed cost)
    inputs_of: Callable[[], dict[str, Any]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def inputs(self) -> dict[str, Any]:
        """The inputs stored with a run: the key, the period, every member's figures."""
        if self.stored_inputs is None:
            self.stored_inputs = self.inputs_of() if self.inputs_of is not None else {}
        return self.stored_inputs

    @inputs.setter
    def inputs(self, value: dict[str, Any]) -> None:
        self.stored_inputs = value

    @property
    def pool(self) -> Decimal:
        return self.costs - self.subsidies + self.overheads

    @property
    def key_text(self) -> str:
        return self.key.text if self.key is not None else ""


@dataclass
class Overheads:
    """The overheads service of the period and how its pool was stepped down."""

    service: ServiceRef
    costs: Decimal
    subsidies: Decimal
    shares: dict[str, ServiceShare] = field(default_factory=dict)
    error: AllocationError | None = None

    @property
    def pool(self) -> Decimal:
        return self.costs - self.subsidies

    @property
    def by(self) -> str:
        return self.service.overheads_by or ""


@dataclass
class PeriodAllocation:
    """Everything computed for a period, before (or without) storing it."""

    period_id: int
    period_code: str
    period_label: str
    start: date
    end: date
    year: int
    members: dict[int, MemberRef]
    services: list[ServiceAllocation]
    overheads: Overheads | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the one service computed, or None for every service
    only: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def member_by_code(self) -> dict[str, MemberRef]:
        """code → member, built once per ``members`` (pages read it per row: rebuilding the
        dict of 1 000 members on each access made the matrix quadratic). Read it, never
        change it; a new ``members`` dict (or a member added) rebuilds it."""
        cached = self.__dict__.get("_member_by_code")
        if cached is None or cached[0] is not self.members or cached[1] != len(self.members):
            cached = (self.members, len(self.members),
                      {m.code: m for m in self.members.values()})
            self.__dict__["_member_by_code"] = cached
        return cached[2]

    def service(self, code: str) -> ServiceAllocation:
        for item in self.services:
            if item.service.code == code:
                return item
        raise KeyError(code)

    def amounts(self) -> dict[str, dict[str, Decimal]]:
        """member code → service code → amount, for members with at least one line."""
        matrix: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for item in self.services:
            if item.allocation is None:
                continue
            for code, amount in item.allocation.amounts.items():
                matrix[code][item.service.code] = amount
        return dict(sorted(matrix.items()))

    def member_totals(self) -> dict[str, Decimal]:
        return {code: sum(row.values(), ZERO) for code, row in self.amounts().items()}

    def service_totals(self) -> dict[str, Decimal]:
        return {
            item.service.code: item.allocation.total
            for item in self.services
            if item.allocation is not None
        }

    @property
    def total(self) -> Decimal:
        return sum(self.service_totals().values(), ZERO)
