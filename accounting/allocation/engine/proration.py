"""Bases measured as integer weights (DESIGN §4): a member's figure for a basis, prorated by its
active fraction (days of membership / days of the period) unless the basis is measured in the
period (hours, units), then scaled to integers so that the engine adds and rounds integers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from accounting.allocation.engine.inputs import MemberBasis
from accounting.allocation.keys import Basis, BasisName


def active_days_between(
    start: date, end: date, joined_on: date | None, left_on: date | None
) -> int:
    """Days of membership inside [start, end]; ``joined_on`` and ``left_on`` are both days of
    membership (inclusive), ``None`` meaning "before" / "still a member"."""
    first = max(start, joined_on) if joined_on else start
    last = min(end, left_on) if left_on else end
    return max(0, (last - first).days + 1)


def _figures(basis: Basis, active: Sequence[MemberBasis]) -> dict[str, Decimal | int]:
    """Each member's raw figure for a basis (checked present by ``check_figures``), in one
    comprehension per basis: this runs for every member of every service of a period."""
    name = basis.name
    if name is BasisName.EQUAL:
        return {m.code: 1 for m in active}
    if name is BasisName.FIXED:
        percentages = basis.percentages
        return {m.code: percentages[m.code] for m in active}
    if name is BasisName.REVENUE:
        return {m.code: m.revenue for m in active}  # type: ignore[misc]
    if name is BasisName.HEADCOUNT:
        return {m.code: m.headcount for m in active}  # type: ignore[misc]
    if name is BasisName.HOURS:
        return {m.code: m.minutes for m in active}
    return {m.code: m.units for m in active}


def _places(values: Iterable[Decimal | int]) -> int:
    """Decimal places needed to write every value as an integer (10**places × value)."""
    places = 0
    for value in values:
        if isinstance(value, Decimal):
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                places = -exponent
    return places


def scaled(value: Decimal | int, places: int) -> int:
    return int(value.scaleb(places)) if isinstance(value, Decimal) else value * 10**places


@dataclass
class Weights:
    """One basis measured as integers: value of a member = ``w[code] / scale``."""

    figures: dict[str, Decimal | int]
    w: dict[str, int]
    scale: int
    places: int

    @property
    def total(self) -> int:
        return sum(self.w.values())


def measure_basis(
    basis: Basis, active: Sequence[MemberBasis], period_days: int, extra: Decimal | int = 0
) -> Weights:
    """Integer weights of one basis; ``extra`` (common units) only fixes the scale."""
    figures = _figures(basis, active)
    places = _places([*figures.values(), extra])
    unit = 10**places
    if places == 0 and all(type(f) is int for f in figures.values()):
        w = dict(figures)  # already integers (equal, hours, whole figures): nothing to scale
    else:
        w = {code: scaled(f, places) for code, f in figures.items()}
    if basis.name.measured:
        return Weights(figures, w, unit, places)
    for m in active:
        w[m.code] *= m.active_days
    return Weights(figures, w, unit * period_days, places)


def common_quantity(basis: Basis, common_minutes: int, common_units: Decimal) -> Fraction:
    return Fraction(common_minutes) if basis.name is BasisName.HOURS else Fraction(common_units)
