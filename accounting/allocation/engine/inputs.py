"""The engine's inputs: what it knows of a member (``MemberBasis``) and of a service receiving
overheads (``ServiceBasis``) — plain data, aggregated by the callers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MemberBasis:
    """What the engine knows of one member for one service and period.

    ``active_days``: days of membership inside the period (0 = not part of the allocation).
    ``revenue`` / ``headcount``: the fiscal year's figures, ``None`` when not given.
    ``minutes`` / ``units``: work logged for the member on the service in the period
    (units = Σ quantity × weight).
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
