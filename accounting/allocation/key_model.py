"""The values of an allocation key: a basis, a weighted part, a key, frozen and checked by their
constructors (the parts' weights add up to 100 %, no basis twice, ``fixed`` percentages add up to
100 %, ``common_by`` only with a measured part). ``keys.py`` parses and writes them as text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from accounting.allocation.errors import InvalidFixedPercentages, InvalidKey

HUNDRED = Decimal(100)
_NBSP = "\u00a0"
_SPACES = " \t\u00a0\u202f"


class BasisName(StrEnum):
    """What a member's weight is measured by (DESIGN §4 table)."""

    EQUAL = "equal"  #: 1 × active fraction
    HOURS = "hours"  #: minutes logged for the member on the service in the period
    UNITS = "units"  #: Σ quantity × weight of work units logged for the member
    REVENUE = "revenue"  #: fiscal-year revenue × active fraction
    HEADCOUNT = "headcount"  #: fiscal-year headcount (FTE) × active fraction
    FIXED = "fixed"  #: agreed percentage × active fraction

    @property
    def measured(self) -> bool:
        """Measured bases only exist while the member is there: they are never prorated, and
        they are the ones that can carry common work."""
        return self in (BasisName.HOURS, BasisName.UNITS)


@dataclass(frozen=True)
class Basis:
    """One basis; ``fixed`` holds the agreed (code, percent) pairs of a ``fixed(...)`` basis,
    in the order written."""

    name: BasisName
    fixed: tuple[tuple[str, Decimal], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", BasisName(self.name))
        object.__setattr__(self, "fixed", tuple((str(c), Decimal(p)) for c, p in self.fixed))
        if self.name is not BasisName.FIXED:
            if self.fixed:
                raise InvalidKey(
                    f"Seule la base fixed(...) prend des pourcentages, pas {self.name}."
                )
            return
        if not self.fixed:
            raise InvalidFixedPercentages("fixed(...) doit nommer au moins un adhérent.")
        codes = [c for c, _ in self.fixed]
        twice = sorted(c for c, n in Counter(codes).items() if n > 1)
        if twice:
            raise InvalidFixedPercentages(
                f"fixed(...) nomme deux fois : {', '.join(twice)}.", twice
            )
        bad = [c for c, p in self.fixed if not p.is_finite() or p < 0 or p > HUNDRED]
        if bad:
            raise InvalidFixedPercentages(
                f"Pourcentage hors de 0 à 100 % pour : {', '.join(bad)}.", bad
            )
        total = sum((p for _, p in self.fixed), Decimal(0))
        if total != HUNDRED:
            raise InvalidFixedPercentages(
                f"Les pourcentages de fixed(...) totalisent {format_percent(total)} % "
                f"au lieu de 100 % ({', '.join(codes)}).",
                codes,
            )

    @property
    def percentages(self) -> dict[str, Decimal]:
        """The agreed percentages of a ``fixed`` basis by member code."""
        return dict(self.fixed)


EQUAL = Basis(BasisName.EQUAL)
HOURS = Basis(BasisName.HOURS)
UNITS = Basis(BasisName.UNITS)
REVENUE = Basis(BasisName.REVENUE)
HEADCOUNT = Basis(BasisName.HEADCOUNT)


def fixed(percentages: dict[str, Decimal | str | int] | Iterable[tuple[str, Any]]) -> Basis:
    """A ``fixed(...)`` basis from code → percent (strings may use a decimal comma)."""
    items = percentages.items() if isinstance(percentages, dict) else percentages
    return Basis(
        BasisName.FIXED,
        tuple((code, _decimal(p)) for code, p in items),
    )


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("percentages are Decimal or text, never float")
    return Decimal(str(value).replace(",", ".").strip())


@dataclass(frozen=True)
class KeyPart:
    """One part of a key: ``weight`` percent of the pool shared by ``basis``."""

    weight: Decimal
    basis: Basis

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _decimal(self.weight))
        if not self.weight.is_finite() or self.weight <= 0 or self.weight > HUNDRED:
            raise InvalidKey(
                f"Le poids d'une part doit être entre 0 et 100 % (exclu 0), "
                f"pas {format_percent(self.weight)} %."
            )


@dataclass(frozen=True)
class Key:
    """An allocation key: parts whose weights add up to 100 %, and how common work is shared."""

    parts: tuple[KeyPart, ...]
    common_by: Basis | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise InvalidKey("Une clé a au moins une part.")
        names = [p.basis.name for p in self.parts]
        twice = sorted(n for n, k in Counter(names).items() if k > 1)
        if twice:
            raise InvalidKey(f"La base « {twice[0]} » apparaît deux fois dans la clé.")
        total = sum((p.weight for p in self.parts), Decimal(0))
        if total != HUNDRED:
            raise InvalidKey(
                f"Les parts de la clé totalisent {format_percent(total)} % au lieu de 100 %."
            )
        if self.common_by is not None and not any(n.measured for n in names):
            raise InvalidKey(
                "common_by ne s'applique qu'à une part hours ou units : "
                "cette clé n'en a pas."
            )

    @classmethod
    def single(cls, basis: Basis, common_by: Basis | None = None) -> Key:
        """A one-basis key (100 %)."""
        return cls((KeyPart(HUNDRED, basis),), common_by)

    @property
    def bases(self) -> tuple[Basis, ...]:
        """Every basis the key may measure, ``common_by`` included."""
        extra = (self.common_by,) if self.common_by is not None else ()
        return tuple(p.basis for p in self.parts) + extra

    def __str__(self) -> str:
        return format_key(self)


# --------------------------------------------------------------------------- canonical text


def format_percent(value: Decimal) -> str:
    """A percentage with a decimal comma and no useless zeros: 12,5 ; 100 ; 33,33."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_basis(basis: Basis) -> str:
    """Canonical text of one basis."""
    if basis.name is not BasisName.FIXED:
        return basis.name.value
    inner = ", ".join(f"{code}={format_percent(p)}%" for code, p in basis.fixed)
    return f"fixed({inner})"


def format_key(key: Key) -> str:
    """Canonical text of a key (order of the parts kept, decimal comma, lone ``100%`` omitted)."""
    if len(key.parts) == 1:
        text = format_basis(key.parts[0].basis)
    else:
        text = " + ".join(f"{format_percent(p.weight)}% {format_basis(p.basis)}" for p in key.parts)
    if key.common_by is not None:
        text += f", common_by={format_basis(key.common_by)}"
    return text
