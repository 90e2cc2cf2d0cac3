"""The explanation of every amount: ``PartShare`` (one line: pool shared, basis value, total
basis, share, exact amount), ``MemberShare`` (a member's total and its rounding) and
``Allocation`` (the result of ``allocate``). They read back from the JSON stored with runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from accounting.allocation.engine.inputs import ZERO
from accounting.allocation.engine.rounding import (
    cents_to_decimal,
    fraction_str,
    ratio_to_decimal,
    to_decimal,
)
from accounting.allocation.keys import (
    Basis,
    Key,
    describe_basis_fr,
    describe_key_fr,
    format_basis,
    format_basis_value_fr,
    format_key,
    format_number_fr,
    parse_basis,
)

_F0 = Fraction(0)
_F1 = Fraction(1)


@dataclass(frozen=True, eq=False)
class Line:
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

    def __init__(self, line: Line, w: int, figure: Decimal | int | Fraction, days: int) -> None:
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
        line = Line(part_basis, Decimal(weight), basis, common, Fraction(pool), Fraction(total),
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


class MemberShare:
    """A member's allocated amount with everything needed to explain it.

    Built by hand (or read back from storage) from its values; the engine builds it with
    :meth:`computed` from integers instead, and its ``Fraction`` and ``Decimal`` values and its
    ``PartShare`` lines are made only when read: a year of 1 000 members × 19 services has
    19 000 shares, most of them only ever summed (the fixed cost of issue 16).
    """

    __slots__ = ("_active_fraction", "_amount", "_cents", "_exact", "_lines", "_parts",
                 "active_days", "code")

    def __init__(
        self, *, code: str, active_days: int, active_fraction: Fraction,
        parts: tuple[PartShare, ...], exact: Fraction, floored: Decimal, adjustment: Decimal,
        amount: Decimal,
    ) -> None:
        self.code = code
        self.active_days = active_days
        self._active_fraction: Fraction | int = active_fraction
        self._parts: tuple[PartShare, ...] | None = tuple(parts)
        self._lines: Sequence[tuple[Line, Any]] = ()
        self._exact: Fraction | tuple[int, int] = exact
        #: (floored cents, adjustment cents) when computed, else (floored, adjustment) Decimals
        self._cents: tuple[Any, Any] = (floored, adjustment)
        self._amount: Decimal | None = amount

    @classmethod
    def computed(
        cls, code: str, active_days: int, period_days: int, lines: Sequence[tuple[Line, Any]],
        exact_cents: int, denominator: int, floored_cents: int, adjustment_cents: int,
    ) -> MemberShare:
        """The engine's share, from integers: ``exact = exact_cents / denominator`` cents;
        ``lines`` are the engine's ``(Line, Weights)`` pairs, read when ``parts`` is."""
        share = cls.__new__(cls)
        share.code = code
        share.active_days = active_days
        share._active_fraction = period_days  # the fraction's denominator, built when read
        share._parts = None
        share._lines = lines
        share._exact = (exact_cents, denominator * 100)
        share._cents = (floored_cents, adjustment_cents)
        share._amount = None
        return share

    @property
    def active_fraction(self) -> Fraction:
        if isinstance(self._active_fraction, int):
            self._active_fraction = Fraction(self.active_days, self._active_fraction)
        return self._active_fraction

    @property
    def parts(self) -> tuple[PartShare, ...]:
        if self._parts is None:
            code, days = self.code, self.active_days
            self._parts = tuple(
                PartShare(line, weights.w[code], weights.figures[code], days)
                for line, weights in self._lines
            )
        return self._parts

    @property
    def exact(self) -> Fraction:
        if isinstance(self._exact, tuple):
            self._exact = Fraction(*self._exact)
        return self._exact

    @property
    def floored(self) -> Decimal:
        floored = self._cents[0]
        return cents_to_decimal(floored) if isinstance(floored, int) else floored

    @property
    def adjustment(self) -> Decimal:
        """The cent handed by the largest remainders (0,00 or 0,01)."""
        adjustment = self._cents[1]
        return cents_to_decimal(adjustment) if isinstance(adjustment, int) else adjustment

    @property
    def amount(self) -> Decimal:
        if self._amount is None:
            self._amount = cents_to_decimal(self._cents[0] + self._cents[1])
        return self._amount

    @property
    def rounding(self) -> Fraction:
        """``amount − exact``: what rounding changed, strictly within one cent."""
        return Fraction(self.amount) - self.exact

    @property
    def exact_decimal(self) -> Decimal:
        if isinstance(self._exact, tuple):
            return ratio_to_decimal(*self._exact, 6)
        return to_decimal(self.exact, 6)

    def _key(self) -> tuple[Any, ...]:
        return (self.code, self.active_days, self.active_fraction, self.parts, self.exact,
                self.floored, self.adjustment, self.amount)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemberShare) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<MemberShare {self.code} {self.amount} (exact {self.exact})>"

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


class ComputedShares(Sequence[MemberShare]):
    """The engine's shares of one service, kept as integers: ``MemberShare`` objects are built
    when the shares are first read (the workbook, a stored run, the explanation page), while
    the amounts are read straight from the integers.

    Why: a year of 1 000 members × 19 services makes 19 000 shares; built eagerly they were
    19 000 objects tracked by the garbage collector, enough to trigger a full collection of the
    whole heap during each allocation — the larger part of its fixed cost (issue 16).
    """

    __slots__ = (
        "_active",
        "_bonus",
        "_built",
        "_denominator",
        "_exact",
        "_floors",
        "_lines",
        "_period_days",
    )

    def __init__(
        self, active: Sequence[tuple[str, int]], period_days: int,
        lines: Sequence[tuple[Line, Any]], exact_cents: Mapping[str, int], denominator: int,
        floors: Mapping[str, int], bonus: set[str],
    ) -> None:
        self._active = active  #: (code, active days), by code
        self._period_days = period_days
        self._lines = lines
        self._exact = exact_cents
        self._denominator = denominator
        self._floors = floors
        self._bonus = bonus
        self._built: tuple[MemberShare, ...] | None = None

    def _shares(self) -> tuple[MemberShare, ...]:
        if self._built is None:
            computed, bonus = MemberShare.computed, self._bonus
            self._built = tuple(
                computed(code, days, self._period_days, self._lines, self._exact[code],
                         self._denominator, self._floors[code], 1 if code in bonus else 0)
                for code, days in self._active
            )
        return self._built

    def amounts(self) -> dict[str, Decimal]:
        """member code → amount, from the integers (no share built)."""
        floors, bonus = self._floors, self._bonus
        return {
            code: cents_to_decimal(floors[code] + (1 if code in bonus else 0))
            for code, _ in self._active
        }

    def __len__(self) -> int:
        return len(self._active)

    def __getitem__(self, index: Any) -> Any:
        return self._shares()[index]

    def __iter__(self) -> Iterator[MemberShare]:
        return iter(self._shares())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ComputedShares | tuple):
            return self._shares() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<ComputedShares of {len(self)} members>"


@dataclass(frozen=True)
class Allocation:
    """The result of ``allocate``: shares sorted by member code, adding up to ``pool``."""

    pool: Decimal
    key: Key
    period_days: int
    common_minutes: int
    common_units: Decimal
    #: a tuple, or the engine's ``ComputedShares`` (built when read)
    shares: Sequence[MemberShare]
    #: members with no active day in the period, left out of the allocation
    excluded: tuple[str, ...] = ()
    _by_code: dict[str, MemberShare] = field(default_factory=dict, repr=False, compare=False)
    #: member code → amount, built once (a page reads it per service and per total: 1 000
    #: members × 20 services converted again on each read cost a matrix page 300 ms)
    _amounts: dict[str, Decimal] = field(default_factory=dict, repr=False, compare=False)

    def _index(self) -> dict[str, MemberShare]:
        if not self._by_code:
            self._by_code.update({s.code: s for s in self.shares})
        return self._by_code

    def __getitem__(self, code: str) -> MemberShare:
        return self._index()[code]

    def get(self, code: str) -> MemberShare | None:
        return self._index().get(code)

    @property
    def amounts(self) -> dict[str, Decimal]:
        """member code → amount (a copy: the memo is never handed out)."""
        if not self._amounts and self.shares:
            if isinstance(self.shares, ComputedShares):
                self._amounts.update(self.shares.amounts())
            else:
                self._amounts.update({s.code: s.amount for s in self.shares})
        return dict(self._amounts)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

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
