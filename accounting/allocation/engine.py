"""The allocation engine: a pure function of plain data, exact to the cent (DESIGN §4).

Design: every amount is computed as a ``Fraction`` (no rounding anywhere) from the pool, the key
and the members' bases; each member's total is then floored to the cent towards minus infinity
and the cents left over go one by one to the largest remainders, ties broken by member code.
Only the member's total is rounded, never a part. Invariants (property-tested):

* the amounts add up to the pool to the cent, whatever the pool's sign (a negative pool is
  allocated as credits the same way);
* each amount is within one cent of the member's exact share, and the result does not depend
  on the order of the members;
* a key that cannot be computed raises a subclass of ``AllocationError`` naming what is
  missing — never ``ZeroDivisionError``, never a silent zero. Only a zero pool may have nothing to
  share by (every share is then zero).

Every amount keeps its explanation (``PartShare``: pool shared, basis value, total basis,
share, exact amount) so that the UI, the workbook and the invoices can show each cent.

No database and no Flask here: callers aggregate the bases (``MemberBasis``) and pass them in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, TypeVar

from accounting.allocation.errors import (
    AllocationError,
    InvalidFigure,
    InvalidFixedPercentages,
    InvalidPool,
    MissingFigures,
    NoBasis,
)
from accounting.allocation.keys import (
    Basis,
    BasisName,
    Key,
    KeyPart,
    describe_basis_fr,
    describe_key_fr,
    format_basis,
    format_basis_value_fr,
    format_key,
    format_minutes_fr,
    format_number_fr,
    parse_basis,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
_F0 = Fraction(0)
_F1 = Fraction(1)

K = TypeVar("K", bound=Hashable)

#: French names of the figures a key may need (used in refusals)
FIGURE_NAMES_FR = {
    BasisName.REVENUE: "Chiffre d'affaires",
    BasisName.HEADCOUNT: "Effectif (ETP)",
}


# --------------------------------------------------------------------------- inputs


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


# --------------------------------------------------------------------------- results


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


@dataclass(frozen=True, eq=False)
class _Line:
    """What every member's explanation of one line shares: the basis, the money and the total.

    A member's value on the line is ``w / scale`` and its exact share ``num × w / den`` euros,
    with integers ``w``, ``scale``, ``num`` and ``den``: the engine adds and rounds integers, and
    a ``PartShare`` builds its ``Fraction`` values only when they are read.
    """

    part_basis: Basis
    weight: Decimal
    basis: Basis
    common: bool
    pool: Fraction
    total: Fraction
    common_quantity: Fraction
    scale: int
    num: int
    den: int
    period_days: int


class PartShare:
    """One line of a member's explanation: ``exact = pool × value / total``.

    ``part_basis`` is the basis of the key's part; ``basis`` the one measured here — they differ
    on the ``common`` line, which shares the common work of an hours/units part (whose quantity
    is ``common_quantity``) by the key's ``common_by``. Values are exact ``Fraction``; they are
    computed when read (a year of 1 000 members has tens of thousands of lines).
    """

    __slots__ = ("_days", "_figure", "_line", "_w")

    def __init__(self, line: _Line, w: int, figure: Decimal | int | Fraction, days: int) -> None:
        self._line = line
        self._w = w
        self._figure = figure
        self._days = days

    # the line's attributes
    part_basis = property(lambda self: self._line.part_basis)
    weight = property(lambda self: self._line.weight, doc="the part's weight, % of the pool")
    basis = property(lambda self: self._line.basis)
    common = property(lambda self: self._line.common)
    pool = property(lambda self: self._line.pool, doc="the money this line shares")
    total = property(lambda self: self._line.total, doc="Σ of the values (+ common work)")
    common_quantity = property(lambda self: self._line.common_quantity)

    @property
    def figure(self) -> Fraction:
        """The member's raw figure (minutes, units, revenue, FTE, agreed %, 1)."""
        return Fraction(self._figure)

    @property
    def fraction(self) -> Fraction:
        """The active fraction applied to the figure (1 for measured bases)."""
        if self.basis.name.measured:
            return _F1
        return Fraction(self._days, self._line.period_days)

    @property
    def value(self) -> Fraction:
        """figure × fraction: the member's basis value."""
        return Fraction(self._w, self._line.scale)

    @property
    def exact(self) -> Fraction:
        return Fraction(self._line.num * self._w, self._line.den)

    def exact_decimal(self, places: int = 6) -> Decimal:
        """The exact amount shown with ``places`` decimals (no Fraction built)."""
        return ratio_to_decimal(self._line.num * self._w, self._line.den, places)

    def value_number(self, places: int = 4) -> int | Decimal:
        """The basis value for display: an int when whole (minutes), else a Decimal."""
        scale = self._line.scale
        if scale == 1:
            return self._w
        return ratio_to_decimal(self._w, scale, places)

    @property
    def share(self) -> Fraction:
        """value / total (0 when nothing is shared: a zero pool with an empty basis)."""
        return self.value / self.total if self.total else _F0

    @property
    def share_percent(self) -> Decimal:
        return to_decimal(self.share * 100, 4)

    def _key(self) -> tuple[Any, ...]:
        return (self.part_basis, self.weight, self.basis, self.common, self.pool, self.total,
                self.common_quantity, self.figure, self.fraction, self.value, self.exact)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartShare) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<PartShare {format_basis(self.basis)} {self.value} / {self.total} = {self.exact}>"

    def describe_fr(self) -> str:
        """« 30 h sur 80 h × 12 000,00 € = 4 500,00 € » — one line of the explanation."""
        value = format_basis_value_fr(self.basis, self.value)
        total = format_basis_value_fr(self.basis, self.total, total=True)
        head = describe_basis_fr(self.basis, common=self.common)
        if self.common:
            quantity = format_basis_value_fr(self.part_basis, self.common_quantity)
            head = f"travail commun ({quantity}) {head}"
        return (
            f"{head} : {value} sur {total} ({format_number_fr(self.share_percent, 4, trim=True)} %)"
            f" × {format_number_fr(self.pool, 2)} € = {format_number_fr(self.exact, 4)} €"
        )

    def to_dict(self) -> dict[str, Any]:
        exact = self.exact
        return {
            "part_basis": format_basis(self.part_basis),
            "weight": str(self.weight),
            "basis": format_basis(self.basis),
            "common": self.common,
            "pool": fraction_str(self.pool),
            "figure": fraction_str(self.figure),
            "fraction": fraction_str(self.fraction),
            "value": fraction_str(self.value),
            "total": fraction_str(self.total),
            "share_percent": str(self.share_percent),
            "exact": fraction_str(exact),
            "exact_decimal": str(to_decimal(exact, 6)),
            "common_quantity": fraction_str(self.common_quantity),
        }

    @classmethod
    def of(
        cls, *, part_basis: Basis, weight: Decimal, basis: Basis, common: bool, pool: Fraction,
        figure: Fraction, fraction: Fraction, value: Fraction, total: Fraction, exact: Fraction,
        common_quantity: Fraction = _F0,
    ) -> PartShare:
        """A line from its values (read back from storage, or built by hand in tests)."""
        value, exact, fraction = Fraction(value), Fraction(exact), Fraction(fraction)
        if value:
            ratio = exact / value  # exact = ratio × w / scale = num × w / den
            num, den = ratio.numerator, ratio.denominator * value.denominator
        else:
            if exact:
                raise ValueError("a zero value cannot have a non-zero exact share")
            num, den = 0, 1
        line = _Line(part_basis, Decimal(weight), basis, common, Fraction(pool), Fraction(total),
                     Fraction(common_quantity), value.denominator, num, den,
                     fraction.denominator)
        return cls(line, value.numerator, Fraction(figure), fraction.numerator)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartShare:
        """Read back ``to_dict()`` (stored runs), exact values included."""
        return cls.of(
            part_basis=parse_basis(data["part_basis"]),
            weight=Decimal(data["weight"]),
            basis=parse_basis(data["basis"]),
            common=bool(data["common"]),
            pool=Fraction(data["pool"]),
            figure=Fraction(data["figure"]),
            fraction=Fraction(data["fraction"]),
            value=Fraction(data["value"]),
            total=Fraction(data["total"]),
            exact=Fraction(data["exact"]),
            common_quantity=Fraction(data["common_quantity"]),
        )


@dataclass(frozen=True)
class MemberShare:
    """A member's allocated amount with everything needed to explain it."""

    code: str
    active_days: int
    active_fraction: Fraction
    parts: tuple[PartShare, ...]
    exact: Fraction
    floored: Decimal
    adjustment: Decimal  #: the cent handed by the largest remainders (0,00 or 0,01)
    amount: Decimal

    @property
    def rounding(self) -> Fraction:
        """``amount − exact``: what rounding changed, strictly within one cent."""
        return Fraction(self.amount) - self.exact

    @property
    def exact_decimal(self) -> Decimal:
        return to_decimal(self.exact, 6)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "active_days": self.active_days,
            "active_fraction": fraction_str(self.active_fraction),
            "exact": fraction_str(self.exact),
            "exact_decimal": str(self.exact_decimal),
            "floored": str(self.floored),
            "adjustment": str(self.adjustment),
            "rounding": str(to_decimal(self.rounding, 6)),
            "amount": str(self.amount),
            "parts": [p.to_dict() for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemberShare:
        """Read back ``to_dict()``: a stored line explains itself with the same methods."""
        return cls(
            code=data["code"],
            active_days=int(data["active_days"]),
            active_fraction=Fraction(data["active_fraction"]),
            parts=tuple(PartShare.from_dict(p) for p in data["parts"]),
            exact=Fraction(data["exact"]),
            floored=Decimal(data["floored"]),
            adjustment=Decimal(data["adjustment"]),
            amount=Decimal(data["amount"]),
        )


@dataclass(frozen=True)
class Allocation:
    """The result of ``allocate``: shares sorted by member code, adding up to ``pool``."""

    pool: Decimal
    key: Key
    period_days: int
    common_minutes: int
    common_units: Decimal
    shares: tuple[MemberShare, ...]
    #: members with no active day in the period, left out of the allocation
    excluded: tuple[str, ...] = ()
    _by_code: dict[str, MemberShare] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({s.code: s for s in self.shares})

    def __getitem__(self, code: str) -> MemberShare:
        return self._by_code[code]

    def get(self, code: str) -> MemberShare | None:
        return self._by_code.get(code)

    @property
    def amounts(self) -> dict[str, Decimal]:
        return {s.code: s.amount for s in self.shares}

    @property
    def total(self) -> Decimal:
        return sum((s.amount for s in self.shares), ZERO)

    def describe_fr(self, code: str) -> str:
        """The words of the key with this member's figures (invoice designation)."""
        return describe_key_fr(self.key, self[code])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored with allocation runs (exact values as « n/d » fractions)."""
        return {
            "pool": str(self.pool),
            "key": format_key(self.key),
            "period_days": self.period_days,
            "common_minutes": self.common_minutes,
            "common_units": str(self.common_units),
            "excluded": list(self.excluded),
            "shares": [s.to_dict() for s in self.shares],
        }


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


# --------------------------------------------------------------------------- helpers


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


def _pool_fraction(pool: Decimal) -> Fraction:
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
    pool = _pool_fraction(total)
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


def active_days_between(
    start: date, end: date, joined_on: date | None, left_on: date | None
) -> int:
    """Days of membership inside [start, end]; ``joined_on`` and ``left_on`` are both days of
    membership (inclusive), ``None`` meaning "before" / "still a member"."""
    first = max(start, joined_on) if joined_on else start
    last = min(end, left_on) if left_on else end
    return max(0, (last - first).days + 1)


# --------------------------------------------------------------------------- allocation


def _check_inputs(
    members: Sequence[MemberBasis], period_days: int, common_minutes: int, common_units: Decimal
) -> None:
    if not isinstance(period_days, int) or period_days <= 0:
        raise InvalidFigure(f"Une période compte au moins un jour (reçu {period_days}).")
    if not isinstance(common_minutes, int) or common_minutes < 0:
        raise InvalidFigure(f"Minutes de travail commun invalides : {common_minutes}.")
    if Decimal(common_units) < 0:
        raise InvalidFigure(f"Unités de travail commun invalides : {common_units}.")
    codes = [m.code for m in members]
    twice = sorted(c for c, n in Counter(codes).items() if n > 1)
    if twice:
        raise InvalidFigure(f"Adhérent présent deux fois : {', '.join(twice)}.", twice)
    problems: list[tuple[str, str]] = []
    for m in members:
        if not isinstance(m.active_days, int) or not 0 <= m.active_days <= period_days:
            problems.append(
                (m.code, f"{m.active_days} jours d'adhésion sur une période de {period_days}")
            )
        if not isinstance(m.minutes, int) or m.minutes < 0:
            problems.append((m.code, f"minutes négatives ou non entières ({m.minutes})"))
        if Decimal(m.units) < 0:
            problems.append((m.code, f"unités négatives ({m.units})"))
        if m.revenue is not None and Decimal(m.revenue) < 0:
            problems.append((m.code, f"chiffre d'affaires négatif ({m.revenue})"))
        if m.headcount is not None and Decimal(m.headcount) < 0:
            problems.append((m.code, f"effectif négatif ({m.headcount})"))
        if m.active_days == 0 and (m.minutes or Decimal(m.units)):
            problems.append(
                (m.code, "du travail saisi alors qu'il n'est pas adhérent sur la période")
            )
    if problems:
        raise InvalidFigure(
            "Données impossibles : " + " ; ".join(f"{c} : {p}" for c, p in problems) + ".",
            sorted({c for c, _ in problems}),
        )


def _figure(basis: Basis, m: MemberBasis) -> Decimal | int:
    """The member's raw figure for a basis (checked present by ``_check_figures``)."""
    name = basis.name
    if name is BasisName.EQUAL:
        return 1
    if name is BasisName.FIXED:
        return basis.percentages[m.code]
    if name is BasisName.REVENUE:
        return m.revenue  # type: ignore[return-value]
    if name is BasisName.HEADCOUNT:
        return m.headcount  # type: ignore[return-value]
    if name is BasisName.HOURS:
        return m.minutes
    return m.units


def _places(values: Iterable[Decimal | int]) -> int:
    """Decimal places needed to write every value as an integer (10**places × value)."""
    places = 0
    for value in values:
        if isinstance(value, Decimal):
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                places = -exponent
    return places


def _scaled(value: Decimal | int, places: int) -> int:
    return int(value.scaleb(places)) if isinstance(value, Decimal) else value * 10**places


@dataclass
class _Weights:
    """One basis measured as integers: value of a member = ``w[code] / scale``."""

    figures: dict[str, Decimal | int]
    w: dict[str, int]
    scale: int
    places: int

    @property
    def total(self) -> int:
        return sum(self.w.values())


def _weights(
    basis: Basis, active: Sequence[MemberBasis], period_days: int, extra: Decimal | int = 0
) -> _Weights:
    """Integer weights of one basis; ``extra`` (common units) only fixes the scale."""
    figures = {m.code: _figure(basis, m) for m in active}
    places = _places([*figures.values(), extra])
    unit = 10**places
    if basis.name.measured:
        w = {code: _scaled(f, places) for code, f in figures.items()}
        return _Weights(figures, w, unit, places)
    days = {m.code: m.active_days for m in active}
    w = {code: _scaled(f, places) * days[code] for code, f in figures.items()}
    return _Weights(figures, w, unit * period_days, places)


def _common_quantity(basis: Basis, common_minutes: int, common_units: Decimal) -> Fraction:
    return Fraction(common_minutes) if basis.name is BasisName.HOURS else Fraction(common_units)


def _used_bases(key: Key, common_minutes: int, common_units: Decimal) -> list[Basis]:
    """The bases actually measured: ``common_by`` only when there is common work to share."""
    used = [p.basis for p in key.parts]
    if key.common_by is not None and any(
        p.basis.name.measured and _common_quantity(p.basis, common_minutes, common_units) > 0
        for p in key.parts
    ):
        used.append(key.common_by)
    return used


def _check_figures(
    bases: Iterable[Basis], members: Sequence[MemberBasis], active: Sequence[MemberBasis],
    year: int | None,
) -> None:
    missing: list[tuple[str, str]] = []
    known = {m.code for m in members}
    for basis in bases:
        if basis.name is BasisName.FIXED:
            unknown = sorted(set(basis.percentages) - known)
            if unknown:
                raise InvalidFixedPercentages(
                    f"fixed(...) nomme des adhérents inconnus : {', '.join(unknown)}.", unknown
                )
            without = sorted(m.code for m in active if m.code not in basis.percentages)
            if without:
                raise InvalidFixedPercentages(
                    "Pas de pourcentage convenu dans fixed(...) pour les adhérents actifs : "
                    f"{', '.join(without)}. Complétez la clé.",
                    without,
                )
        elif basis.name is BasisName.REVENUE:
            missing += [(m.code, FIGURE_NAMES_FR[basis.name]) for m in active if m.revenue is None]
        elif basis.name is BasisName.HEADCOUNT:
            missing += [
                (m.code, FIGURE_NAMES_FR[basis.name]) for m in active if m.headcount is None
            ]
    if missing:
        raise MissingFigures(missing, year)


_EMPTY_FR = {
    BasisName.EQUAL: "aucun adhérent actif",
    BasisName.HOURS: "aucune heure saisie pour les adhérents",
    BasisName.UNITS: "aucune unité d'œuvre saisie pour les adhérents",
    BasisName.REVENUE: "le chiffre d'affaires total des adhérents actifs est nul",
    BasisName.HEADCOUNT: "l'effectif total des adhérents actifs est nul",
    BasisName.FIXED: "les adhérents actifs ont tous 0 % dans fixed(...)",
}


def _no_basis(basis: Basis, pool: Fraction, words: str, extra: str = "") -> NoBasis:
    return NoBasis(
        f"Répartition impossible : {_EMPTY_FR[basis.name]} sur la période, la part "
        f"« {words} » ({format_number_fr(pool, 2)} €) n'a rien pour être partagée.{extra}",
        basis.name.value,
    )


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
    pool_f = _pool_fraction(pool)
    _check_inputs(members, period_days, common_minutes, common_units)
    active = sorted((m for m in members if m.active_days > 0), key=lambda m: m.code)
    excluded = tuple(sorted(m.code for m in members if m.active_days == 0))

    def result(shares: tuple[MemberShare, ...]) -> Allocation:
        return Allocation(
            pool=Decimal(pool), key=key, period_days=period_days, common_minutes=common_minutes,
            common_units=Decimal(common_units), shares=shares, excluded=excluded,
        )

    if not active:
        if pool_f == 0:
            return result(())
        raise NoBasis(
            f"Aucun adhérent actif sur la période : rien à qui répartir "
            f"{format_number_fr(pool_f, 2)} €.",
            BasisName.EQUAL.value,
        )
    _check_figures(_used_bases(key, common_minutes, common_units), members, active, year)

    # Each line shares ``pool`` by integer weights: member m gets pool × w[m] / W, that is
    # num × w[m] / den euros. Over a common denominator L every member's exact share is X[m] / L
    # with X[m] an integer, so flooring and remainders are integer arithmetic.
    lines: list[tuple[_Line, _Weights]] = []

    def add_line(
        part: KeyPart, basis: Basis, common: bool, pool: Fraction, weights: _Weights, total: int,
        quantity: Fraction = _F0,
    ) -> None:
        factor = pool / total if total else _F0
        lines.append((
            _Line(part.basis, part.weight, basis, common, pool, Fraction(total, weights.scale),
                  quantity, weights.scale, factor.numerator, factor.denominator, period_days),
            weights,
        ))

    for part in key.parts:
        part_pool = pool_f * Fraction(part.weight) / 100
        common_raw: Decimal | int = 0
        if part.basis.name is BasisName.HOURS:
            common_raw = common_minutes
        elif part.basis.name is BasisName.UNITS:
            common_raw = Decimal(common_units)
        weights = _weights(part.basis, active, period_days, common_raw)
        direct = weights.total
        common = _scaled(common_raw, weights.places)
        if key.common_by is not None and common > 0:
            total = direct + common
            common_pool = part_pool * common / total
            common_weights = _weights(key.common_by, active, period_days)
            common_total = common_weights.total
            if common_total == 0 and common_pool != 0:
                raise _no_basis(
                    key.common_by, common_pool,
                    f"travail commun {describe_basis_fr(key.common_by, common=True)}",
                )
            add_line(part, part.basis, False, part_pool, weights, total)
            add_line(part, key.common_by, True, common_pool, common_weights, common_total,
                     Fraction(common, 10**weights.places))
            continue
        if direct == 0 and part_pool != 0:
            extra = ""
            if common > 0:
                extra = (
                    " Il n'y a que du travail commun : ajoutez « common_by=... » à la clé "
                    "pour dire comment le partager."
                )
            raise _no_basis(part.basis, part_pool, describe_basis_fr(part.basis), extra)
        add_line(part, part.basis, False, part_pool, weights, direct)

    denominator = 1
    for line, _ in lines:
        denominator = math.lcm(denominator, line.den)
    factors = [(line.num * (denominator // line.den), weights.w) for line, weights in lines]
    cents_of = 100
    exact_x = {
        m.code: sum(f * w[m.code] for f, w in factors) * cents_of for m in active
    }  # exact share in cents = exact_x / denominator
    pool_cents = int(pool_f * 100)
    if sum(exact_x.values()) != pool_cents * denominator:  # pragma: no cover - an engine bug
        raise AllocationError("Erreur interne : les parts exactes ne font pas le total.")
    floors = {code: x // denominator for code, x in exact_x.items()}
    left = pool_cents - sum(floors.values())
    ranked = sorted(exact_x, key=lambda code: (-(exact_x[code] % denominator), code))
    bonus = set(ranked[:left])
    fractions: dict[int, Fraction] = {}
    shares = []
    for m in active:
        code = m.code
        extra_cent = 1 if code in bonus else 0
        if m.active_days not in fractions:
            fractions[m.active_days] = Fraction(m.active_days, period_days)
        shares.append(MemberShare(
            code=code,
            active_days=m.active_days,
            active_fraction=fractions[m.active_days],
            parts=tuple(
                PartShare(line, weights.w[code], weights.figures[code], m.active_days)
                for line, weights in lines
            ),
            exact=Fraction(exact_x[code], denominator * 100),
            floored=cents_to_decimal(floors[code]),
            adjustment=cents_to_decimal(extra_cent),
            amount=cents_to_decimal(floors[code] + extra_cent),
        ))
    return result(tuple(shares))


# --------------------------------------------------------------------------- step-down


def step_down(
    pool: Decimal, services: Sequence[ServiceBasis], by: Literal["costs", "hours"]
) -> dict[str, ServiceShare]:
    """Split the overheads service's own pool across the other ``services`` by their costs
    (before subsidies) or their minutes, with the same exact rounding (ties by service code)."""
    if by not in ("costs", "hours"):
        raise AllocationError(
            f"Les frais de structure se répartissent par « costs » ou « hours », pas « {by} »."
        )
    pool_f = _pool_fraction(pool)
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
