"""What the engine refuses (DESIGN §4): impossible inputs, missing figures, a basis with nothing
to share by — each a subclass of ``AllocationError`` naming what is missing, in French."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction

from accounting.allocation.engine.inputs import MemberBasis
from accounting.allocation.engine.proration import common_quantity
from accounting.allocation.errors import (
    InvalidFigure,
    InvalidFixedPercentages,
    MissingFigures,
    NoBasis,
)
from accounting.allocation.keys import Basis, BasisName, Key, format_number_fr

#: French names of the figures a key may need (used in refusals)
FIGURE_NAMES_FR = {
    BasisName.REVENUE: "Chiffre d'affaires",
    BasisName.HEADCOUNT: "Effectif (ETP)",
}


def check_inputs(
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
        if _plainly_valid(m, period_days):
            continue
        problems += _member_problems(m, period_days)
    if problems:
        raise InvalidFigure(
            "Données impossibles : " + " ; ".join(f"{c} : {p}" for c, p in problems) + ".",
            sorted({c for c, _ in problems}),
        )


def _plainly_valid(m: MemberBasis, period_days: int) -> bool:
    """The usual member (plain ints and Decimals, nothing negative, no work when inactive),
    told apart with no conversion: this runs for every member of every service of a period."""
    days, minutes, units = m.active_days, m.minutes, m.units
    revenue, headcount = m.revenue, m.headcount
    return (
        type(days) is int and 0 <= days <= period_days
        and type(minutes) is int and minutes >= 0
        and type(units) in _PLAIN and units >= 0
        and (days > 0 or not (minutes or units))
        and (revenue is None or (type(revenue) in _PLAIN and revenue >= 0))
        and (headcount is None or (type(headcount) in _PLAIN and headcount >= 0))
    )


_PLAIN = (Decimal, int)


def _member_problems(m: MemberBasis, period_days: int) -> list[tuple[str, str]]:
    """Everything wrong with one member's figures, each named (a refusal lists them all)."""
    problems: list[tuple[str, str]] = []
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
    return problems


def used_bases(key: Key, common_minutes: int, common_units: Decimal) -> list[Basis]:
    """The bases actually measured: ``common_by`` only when there is common work to share."""
    used = [p.basis for p in key.parts]
    if key.common_by is not None and any(
        p.basis.name.measured and common_quantity(p.basis, common_minutes, common_units) > 0
        for p in key.parts
    ):
        used.append(key.common_by)
    return used


def check_figures(
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


def no_basis(basis: Basis, pool: Fraction, words: str, extra: str = "") -> NoBasis:
    return NoBasis(
        f"Répartition impossible : {_EMPTY_FR[basis.name]} sur la période, la part "
        f"« {words} » ({format_number_fr(pool, 2)} €) n'a rien pour être partagée.{extra}",
        basis.name.value,
    )
