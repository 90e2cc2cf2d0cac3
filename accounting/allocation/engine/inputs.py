"""The engine's inputs: what it knows of a member (``MemberBasis``) and of a service receiving
overheads (``ServiceBasis``) — plain data, aggregated by the callers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class MemberBasis(NamedTuple):
    """What the engine knows of one member for one service and period.

    ``active_days``: days of membership inside the period (0 = not part of the allocation).
    ``revenue`` / ``headcount``: the fiscal year's figures, ``None`` when not given.
    ``minutes`` / ``units``: work logged for the member on the service in the period
    (units = Σ quantity × weight).

    A named tuple rather than a dataclass: a period builds one per member and service (19 000
    at 1 000 members), and a tuple of strings and numbers is cheap to build and is not tracked
    by the garbage collector, whose full collections over that many objects were the larger
    part of the engine's fixed cost (issue 16).
    """

    code: str
    active_days: int
    revenue: Decimal | None = None
    headcount: Decimal | None = None
    minutes: int = 0
    units: Decimal = ZERO


@dataclass(frozen=True)
class ServiceBasis:
    """A service receiving part of the overheads: its costs (before subsidies) and minutes."""

    code: str
    costs: Decimal = ZERO
    minutes: int = 0
