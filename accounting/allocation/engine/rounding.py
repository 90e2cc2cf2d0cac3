"""Exact amounts to cents: floor towards minus infinity, then the cents left over one by one to
the largest remainders, ties broken by key (DESIGN §4). Also the display of exact values."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from accounting.allocation.engine.inputs import ZERO
from accounting.allocation.errors import InvalidFigure, InvalidPool, NoBasis
from accounting.allocation.keys import format_number_fr

_F0 = Fraction(0)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Rounded:
    """One exact amount and how it became cents: ``amount = floored + adjustment``."""

    exact: Fraction
    floored: Decimal
    adjustment: Decimal
    amount: Decimal

    @property
    def rounding(self) -> Fraction:
        """``amount − exact``, always strictly between −1 and +1 cent."""
        return Fraction(self.amount) - self.exact


def ratio_to_decimal(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` rounded half-even to ``places`` decimals, in integers (no
    Decimal context limit, no Fraction built): for showing exact values."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator * 10**places, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return Decimal(quotient).scaleb(-places)


def to_decimal(value: Fraction | Decimal | int, places: int) -> Decimal:
    """A fraction shown with ``places`` decimals (display only; amounts come from rounding)."""
    if not isinstance(value, Fraction):
        value = Fraction(value)
    return ratio_to_decimal(value.numerator, value.denominator, places)


def fraction_str(value: Fraction) -> str:
    """« 10000/3 » or « 12 »: an exact value in JSON."""
    return str(Fraction(value))


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def pool_fraction(pool: Decimal) -> Fraction:
    if not isinstance(pool, Decimal | int) or isinstance(pool, bool):
        raise TypeError("the pool is a Decimal (never a float)")
    pool = Decimal(pool)
    if not pool.is_finite():
        raise InvalidPool(f"Montant à répartir invalide : {pool}.")
    exact = Fraction(pool)
    if (exact * 100).denominator != 1:
        raise InvalidPool(
            f"Le montant à répartir doit être en centimes entiers, pas {pool} €."
        )
    return exact


def round_to_cents(exacts: Mapping[K, Fraction]) -> dict[K, Rounded]:
    """Floor each exact amount to the cent (towards −∞), then give the cents left over one by
    one to the largest remainders, ties by key. The exact amounts must add up to whole cents."""
    total = sum(exacts.values(), _F0)
    total_cents = total * 100
    if total_cents.denominator != 1:
        raise InvalidPool("Le total à répartir n'est pas un nombre entier de centimes.")
    floors = {k: math.floor(v * 100) for k, v in exacts.items()}
    left = int(total_cents) - sum(floors.values())
    order = sorted(exacts, key=lambda k: (-(exacts[k] * 100 - floors[k]), k))
    bonus = set(order[:left])
    result: dict[K, Rounded] = {}
    for k, exact in exacts.items():
        extra = 1 if k in bonus else 0
        result[k] = Rounded(
            exact=exact,
            floored=cents_to_decimal(floors[k]),
            adjustment=cents_to_decimal(extra),
            amount=cents_to_decimal(floors[k] + extra),
        )
    return result


def largest_remainder(
    total: Decimal, weights: Mapping[K, Fraction | Decimal | int]
) -> dict[K, Decimal]:
    """Split ``total`` (whole cents, any sign) in proportion to non-negative ``weights`` so that
    the parts add up to it exactly; ties go to the smallest key. Raises ``NoBasis`` when every
    weight is zero and the total is not."""
    pool = pool_fraction(total)
    weights_f = {k: Fraction(w) for k, w in weights.items()}
    negative = sorted(str(k) for k, w in weights_f.items() if w < 0)
    if negative:
        raise InvalidFigure(f"Poids négatif pour : {', '.join(negative)}.", negative)
    weight_sum = sum(weights_f.values(), _F0)
    if weight_sum == 0:
        if pool == 0:
            return {k: ZERO for k in weights_f}
        raise NoBasis(
            f"Rien pour répartir {format_number_fr(pool, 2)} € : tous les poids sont nuls."
        )
    rounded = round_to_cents({k: pool * w / weight_sum for k, w in weights_f.items()})
    return {k: r.amount for k, r in rounded.items()}


def floor_to_cents(
    exact: Mapping[str, int], denominator: int, total_cents: int
) -> tuple[dict[str, int], set[str]]:
    """``round_to_cents`` in integers, for the engine: ``exact[code] / denominator`` cents each,
    adding up to ``total_cents``. Returns the floors (cents) and the codes that get one cent
    more (the largest remainders, ties by code)."""
    floors: dict[str, int] = {}
    ranked: list[tuple[int, str]] = []
    for code, x in exact.items():
        floor, remainder = divmod(x, denominator)
        floors[code] = floor
        if remainder:
            ranked.append((-remainder, code))
    left = total_cents - sum(floors.values())
    if not left:
        return floors, set()
    ranked.sort()  # largest remainder first, ties by code: tuples compare in C, no key function
    return floors, {code for _, code in ranked[:left]}
