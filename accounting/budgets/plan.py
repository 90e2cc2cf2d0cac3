"""The arithmetic of calls for funds, as pure functions over ``Decimal`` (no database).

* :func:`regular_calls` splits a budget's net pool into the schedule's calls, to the cent (the
  cents left over go to the first calls).
* :func:`call_pools` says what each remaining call asks after a revision, in the three ways of
  catching up (DESIGN §5b): at once (one call of the difference now, then the regular calls),
  on the next call, or spread over the remaining calls (default). Whatever the mode, what was
  called + the catch-up + the remaining calls = the revised budget, to the cent.
* :func:`call_shares` splits one call's pool across the members by the call key: each part of
  the key shares its weight by its basis, measured bases (hours, units) replaced by last
  year's shares (equal shares when there is no last year), every basis prorated by the
  member's days of membership in the call's period (members joining or leaving).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from accounting.allocation.engine import largest_remainder
from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import BasisName, Key
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import CatchUp
from accounting.money import ZERO


def regular_calls(net: Decimal, count: int) -> list[Decimal]:
    """``net`` in ``count`` calls as equal as cents allow, the extra cents first."""
    if count < 1:
        raise BudgetError("Un calendrier d'appels compte au moins un appel.")
    return list(largest_remainder(net, dict.fromkeys(range(count), 1)).values())


@dataclass(frozen=True)
class CallPlan:
    """What is left to call: ``catch_up`` now (at once), then ``remaining`` per call."""

    mode: CatchUp
    catch_up: Decimal
    remaining: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        return self.catch_up + sum(self.remaining, ZERO)


def call_pools(
    net: Decimal, count: int, called: Sequence[Decimal], mode: CatchUp = CatchUp.SPREAD
) -> CallPlan:
    """The plan of the calls not yet issued for a budget of ``net`` over ``count`` calls, when
    ``called`` were issued (one amount per call, in order). When every call is issued the
    difference waits for the true-up (``remaining`` empty, no catch-up)."""
    done = len(called)
    if done > count:
        raise BudgetError(
            f"{done} appels déjà émis pour un calendrier de {count} appels : le calendrier ne "
            "peut plus être réduit."
        )
    regular = regular_calls(net, count)
    if done == count:
        return CallPlan(mode, ZERO, ())
    so_far = sum(called, ZERO)
    gap = sum(regular[:done], ZERO) - so_far
    rest = regular[done:]
    if mode is CatchUp.SPREAD:
        return CallPlan(mode, ZERO, tuple(regular_calls(net - so_far, count - done)))
    if mode is CatchUp.NEXT:
        return CallPlan(mode, ZERO, (rest[0] + gap, *rest[1:]))
    return CallPlan(mode, gap, tuple(rest))


def preview(net: Decimal, count: int, called: Sequence[Decimal]) -> dict[CatchUp, CallPlan]:
    """The three plans side by side, for the treasurer to choose (DESIGN §5b)."""
    return {mode: call_pools(net, count, called, mode) for mode in CatchUp}


@dataclass(frozen=True)
class CallMember:
    """What the call key knows of a member for one call period."""

    code: str
    active_days: int
    revenue: Decimal | None = None
    headcount: Decimal | None = None
    #: The member's allocation of the service last fiscal year (None: no last year).
    last_year: Decimal | None = None


_FIGURE_FR = {BasisName.REVENUE: "chiffre d'affaires", BasisName.HEADCOUNT: "effectif"}


def _figure(basis_name: BasisName, member: CallMember, fixed: dict[str, Decimal],
            use_last_year: bool) -> Fraction:
    if basis_name is BasisName.EQUAL:
        return Fraction(1)
    if basis_name is BasisName.FIXED:
        return Fraction(fixed.get(member.code, ZERO))
    if basis_name.measured:
        if not use_last_year:
            return Fraction(1)  # a first year: equal shares
        return Fraction(max(member.last_year or ZERO, ZERO))
    value = member.revenue if basis_name is BasisName.REVENUE else member.headcount
    if value is None:
        raise BudgetError(
            f"Appel de fonds impossible : {_FIGURE_FR[basis_name]} manquant pour {member.code} "
            "(chiffres de l'année de l'adhérent)."
        )
    return Fraction(value)


def call_shares(
    pool: Decimal, key: Key, members: Sequence[CallMember], period_days: int
) -> dict[str, Decimal]:
    """member code → its part of ``pool``, to the cent (Σ = pool). Members with no day in the
    period get nothing (and are not returned)."""
    active = [m for m in members if m.active_days > 0]
    if not active:
        if pool == ZERO:
            return {}
        raise BudgetError("Appel de fonds impossible : aucun adhérent actif sur la période.")
    use_last_year = any((m.last_year or ZERO) > ZERO for m in active)
    weights: dict[str, Fraction] = {m.code: Fraction(0) for m in active}
    for part in key.parts:
        fixed = part.basis.percentages if part.basis.name is BasisName.FIXED else {}
        figures = {
            m.code: _figure(part.basis.name, m, fixed, use_last_year)
            * Fraction(m.active_days, period_days)
            for m in active
        }
        total = sum(figures.values(), Fraction(0))
        if total == 0:
            continue  # nothing to share by: the other parts carry the pool
        for code, figure in figures.items():
            weights[code] += Fraction(part.weight) * figure / total
    try:
        return largest_remainder(pool, weights)
    except AllocationError as error:
        raise BudgetError(f"Appel de fonds impossible : {error}") from error
