"""The step-down of the overheads service (DESIGN §4): its own pool split across the other
services by their costs (before subsidies) or their minutes, rounded like every amount."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from accounting.allocation.engine.inputs import ServiceBasis
from accounting.allocation.engine.rounding import (
    fraction_str,
    pool_fraction,
    round_to_cents,
    to_decimal,
)
from accounting.allocation.errors import AllocationError, InvalidFigure, NoBasis
from accounting.allocation.keys import format_minutes_fr, format_number_fr

_F0 = Fraction(0)


@dataclass(frozen=True)
class ServiceShare:
    """A service's share of the overheads in the step-down, with its explanation."""

    code: str
    by: str  #: "costs" or "hours"
    value: Fraction  #: the service's costs (euros) or minutes
    total: Fraction
    exact: Fraction
    floored: Decimal
    adjustment: Decimal
    amount: Decimal

    @property
    def share(self) -> Fraction:
        return self.value / self.total if self.total else _F0

    @property
    def share_percent(self) -> Decimal:
        return to_decimal(self.share * 100, 4)

    def describe_fr(self) -> str:
        if self.by == "hours":
            value, total = format_minutes_fr(int(self.value)), format_minutes_fr(int(self.total))
            words = "au prorata des heures des services"
        else:
            value = f"{format_number_fr(self.value, 2)} €"
            total = f"{format_number_fr(self.total, 2)} €"
            words = "au prorata des charges des services"
        return (
            f"Frais de structure {words} : {value} sur {total} "
            f"({format_number_fr(self.share_percent, 4, trim=True)} %) "
            f"= {format_number_fr(self.exact, 4)} €, arrondi à {format_number_fr(self.amount, 2)} €"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "by": self.by,
            "value": fraction_str(self.value),
            "total": fraction_str(self.total),
            "share_percent": str(self.share_percent),
            "exact": fraction_str(self.exact),
            "exact_decimal": str(to_decimal(self.exact, 6)),
            "floored": str(self.floored),
            "adjustment": str(self.adjustment),
            "amount": str(self.amount),
            "text": self.describe_fr(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceShare:
        return cls(
            code=data["code"], by=data["by"], value=Fraction(data["value"]),
            total=Fraction(data["total"]), exact=Fraction(data["exact"]),
            floored=Decimal(data["floored"]), adjustment=Decimal(data["adjustment"]),
            amount=Decimal(data["amount"]),
        )


def step_down(
    pool: Decimal, services: Sequence[ServiceBasis], by: Literal["costs", "hours"]
) -> dict[str, ServiceShare]:
    """Split the overheads service's own pool across the other ``services`` by their costs
    (before subsidies) or their minutes, with the same exact rounding (ties by service code)."""
    if by not in ("costs", "hours"):
        raise AllocationError(
            f"Les frais de structure se répartissent par « costs » ou « hours », pas « {by} »."
        )
    pool_f = pool_fraction(pool)
    codes = [s.code for s in services]
    twice = sorted(c for c, n in Counter(codes).items() if n > 1)
    if twice:
        raise InvalidFigure(f"Service présent deux fois : {', '.join(twice)}.", twice)
    values = {
        s.code: Fraction(s.costs) if by == "costs" else Fraction(s.minutes) for s in services
    }
    negative = sorted(c for c, v in values.items() if v < 0)
    if negative:
        what = "charges négatives" if by == "costs" else "minutes négatives"
        raise InvalidFigure(
            f"Frais de structure : {what} sur la période pour {', '.join(negative)}.", negative
        )
    total = sum(values.values(), _F0)
    if total == 0 and pool_f != 0:
        what = "aucune charge" if by == "costs" else "aucune heure saisie"
        raise NoBasis(
            f"Répartition des frais de structure ({format_number_fr(pool_f, 2)} €) impossible : "
            f"{what} sur les autres services pendant la période.",
            by,
        )
    exacts = {c: pool_f * v / total if total else _F0 for c, v in values.items()}
    rounded = round_to_cents(exacts)
    return {
        c: ServiceShare(
            code=c, by=by, value=values[c], total=total, exact=r.exact, floored=r.floored,
            adjustment=r.adjustment, amount=r.amount,
        )
        for c, r in sorted(rounded.items())
    }
