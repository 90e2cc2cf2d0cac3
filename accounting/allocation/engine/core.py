"""``allocate``: a pool split across the members by a key (DESIGN §4), exact to the cent.

Each part of the key (and its ``common`` line, when common work is shared by ``common_by``) is a
line sharing its money by integer weights: member m gets ``pool × w[m] / W``, that is
``num × w[m] / den`` euros. Over a common denominator every member's exact share is an integer
over it, so flooring and the largest remainders are integer arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from accounting.allocation.engine.checks import check_figures, check_inputs, no_basis, used_bases
from accounting.allocation.engine.explanation import (
    Allocation,
    ComputedShares,
    Line,
    MemberShare,
)
from accounting.allocation.engine.inputs import ZERO, MemberBasis
from accounting.allocation.engine.proration import Weights, measure_basis, scaled
from accounting.allocation.engine.rounding import floor_to_cents, pool_fraction
from accounting.allocation.errors import AllocationError, NoBasis
from accounting.allocation.keys import (
    Basis,
    BasisName,
    Key,
    KeyPart,
    describe_basis_fr,
    format_number_fr,
)

_F0 = Fraction(0)

_Lines = list[tuple[Line, Weights]]


def allocate(
    pool: Decimal,
    key: Key,
    members: Sequence[MemberBasis],
    period_days: int,
    common_minutes: int = 0,
    common_units: Decimal = ZERO,
    *,
    year: int | None = None,
) -> Allocation:
    """Split ``pool`` across the members active in the period by ``key`` (DESIGN §4).

    Pass every member the key may name, including those with no active day (they are left
    out, listed in ``Allocation.excluded``). ``common_minutes``/``common_units`` is the work
    logged with no member. ``year`` is the fiscal year of the figures, named in refusals.
    """
    pool_f = pool_fraction(pool)
    check_inputs(members, period_days, common_minutes, common_units)
    active = sorted((m for m in members if m.active_days > 0), key=lambda m: m.code)
    excluded = tuple(sorted(m.code for m in members if m.active_days == 0))
    shares: Sequence[MemberShare] = ()
    if not active:
        if pool_f != 0:
            raise NoBasis(
                f"Aucun adhérent actif sur la période : rien à qui répartir "
                f"{format_number_fr(pool_f, 2)} €.",
                BasisName.EQUAL.value,
            )
    else:
        check_figures(used_bases(key, common_minutes, common_units), members, active, year)
        lines: _Lines = []
        for part in key.parts:
            part_pool = pool_f * Fraction(part.weight) / 100
            lines += _part_lines(
                part, part_pool, key.common_by, active, period_days, common_minutes, common_units
            )
        shares = _member_shares(pool_f, lines, active, period_days)
    return Allocation(
        pool=Decimal(pool), key=key, period_days=period_days, common_minutes=common_minutes,
        common_units=Decimal(common_units), shares=shares, excluded=excluded,
    )


def _part_lines(
    part: KeyPart, part_pool: Fraction, common_by: Basis | None, active: Sequence[MemberBasis],
    period_days: int, common_minutes: int, common_units: Decimal,
) -> _Lines:
    """The lines of one part of the key: its basis, plus the ``common`` line sharing the common
    work of an hours/units part by ``common_by`` (when the key has one and there is some)."""
    common_raw: Decimal | int = 0
    if part.basis.name is BasisName.HOURS:
        common_raw = common_minutes
    elif part.basis.name is BasisName.UNITS:
        common_raw = Decimal(common_units)
    weights = measure_basis(part.basis, active, period_days, common_raw)
    direct = weights.total
    common = scaled(common_raw, weights.places)
    if common_by is not None and common > 0:
        total = direct + common
        common_pool = part_pool * common / total
        common_weights = measure_basis(common_by, active, period_days)
        common_total = common_weights.total
        if common_total == 0 and common_pool != 0:
            raise no_basis(
                common_by, common_pool,
                f"travail commun {describe_basis_fr(common_by, common=True)}",
            )
        return [
            _line(part, part.basis, False, part_pool, weights, total, period_days),
            _line(part, common_by, True, common_pool, common_weights, common_total, period_days,
                  Fraction(common, 10**weights.places)),
        ]
    if direct == 0 and part_pool != 0:
        extra = ""
        if common > 0:
            extra = (
                " Il n'y a que du travail commun : ajoutez « common_by=... » à la clé "
                "pour dire comment le partager."
            )
        raise no_basis(part.basis, part_pool, describe_basis_fr(part.basis), extra)
    return [_line(part, part.basis, False, part_pool, weights, direct, period_days)]


def _line(
    part: KeyPart, basis: Basis, common: bool, pool: Fraction, weights: Weights, total: int,
    period_days: int, quantity: Fraction = _F0,
) -> tuple[Line, Weights]:
    factor = pool / total if total else _F0
    line = Line(part.basis, part.weight, basis, common, pool, Fraction(total, weights.scale),
                quantity, weights.scale, factor.numerator, factor.denominator, period_days)
    return line, weights


def _member_shares(
    pool_f: Fraction, lines: _Lines, active: Sequence[MemberBasis], period_days: int
) -> ComputedShares:
    """Each active member's exact total in integers, floored to the cent, the cents left over
    to the largest remainders. The explanation (one ``PartShare`` per line, the exact
    ``Fraction``) is kept as these integers and built only when read."""
    denominator = 1
    for line, _ in lines:
        denominator = math.lcm(denominator, line.den)
    factors = [(line.num * (denominator // line.den) * 100, weights.w) for line, weights in lines]
    codes = [m.code for m in active]
    if len(factors) == 1:
        factor, w = factors[0]
        exact_x = {code: factor * w[code] for code in codes}
    else:
        exact_x = {code: sum(f * w[code] for f, w in factors) for code in codes}
    # exact share in cents = exact_x / denominator
    pool_cents = int(pool_f * 100)
    if sum(exact_x.values()) != pool_cents * denominator:  # pragma: no cover - an engine bug
        raise AllocationError("Erreur interne : les parts exactes ne font pas le total.")
    floors, bonus = floor_to_cents(exact_x, denominator, pool_cents)
    return ComputedShares(
        [(m.code, m.active_days) for m in active], period_days, lines, exact_x, denominator,
        floors, bonus,
    )
