"""Key periods: a period that spans two key versions is allocated as its key periods (DESIGN §4).

Design: the period is cut at every date from which a new key version applies (any allocated
service's: the overheads are stepped down by the services' costs or hours of the same days, so
every service is cut at the same dates). Each key period is a complete allocation of its own —
the costs, subsidies, work and active days dated inside it, the key in force on its days, the
step-down, exact rounding — computed by the same ``compute_period``; a member's amount for the
period is the sum of its amounts over the key periods. So each key period hands out exactly its
pool, and the period exactly the sum of the pools; a member's amount is within one cent per key
period of its exact share.

The combined result has the shape of any period's result (screens, workbook, store and invoices
use it unchanged). What makes it readable is kept alongside: the service's ``inputs`` hold
``key_periods`` (dates, key, pool and every member's amount of each), and each member's
explanation (:class:`KeyPeriodShare`) lists its key periods with their own parts, in order.

Pure: no database here; :func:`allocate_by_key_periods` takes the function that computes one
span.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from accounting.allocation.engine import (
    ZERO,
    Allocation,
    MemberShare,
    ServiceShare,
)
from accounting.allocation.keys import parse_key

if TYPE_CHECKING:  # pragma: no cover - typing only (runs imports nothing of this module)
    from accounting.allocation.runs.results import PeriodAllocation


def split_bounds(starts: Iterable[date], start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut before each of ``starts`` lying in (start, end]: the key periods."""
    cuts = sorted({d for d in starts if start < d <= end})
    bounds, first = [], start
    for cut in cuts:
        bounds.append((first, cut - timedelta(days=1)))
        first = cut
    bounds.append((first, end))
    return bounds


def span_label(start: date, end: date) -> str:
    return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"


@dataclass(frozen=True)
class Span:
    """A key period, standing for the period in ``compute_period`` (same id, code, year)."""

    id: int
    code: str
    label: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_closed(self) -> bool:
        return False


class KeyPeriodShare(MemberShare):
    """A member's amount summed over the key periods; ``periods`` explains each one."""

    __slots__ = ("periods",)

    def __init__(
        self, *, periods: tuple[tuple[date, date, str, MemberShare], ...] = (), **values: Any
    ) -> None:
        super().__init__(**values)
        self.periods = tuple(periods)

    def _key(self) -> tuple[Any, ...]:
        return (*super()._key(), self.periods)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["key_periods"] = [
            {"start": s.isoformat(), "end": e.isoformat(), "key": key,
             "amount": str(share.amount), "exact_decimal": str(share.exact_decimal),
             "adjustment": str(share.adjustment), "active_days": share.active_days,
             "parts": len(share.parts)}
            for s, e, key, share in self.periods
        ]  # fmt: skip
        return data


def _sum_shares(
    code: str, days: int, pieces: list[tuple[date, date, str, MemberShare]]
) -> KeyPeriodShare:
    shares = [p[3] for p in pieces]
    active = sum(s.active_days for s in shares)
    return KeyPeriodShare(
        code=code, active_days=active, active_fraction=Fraction(active, days),
        parts=tuple(part for s in shares for part in s.parts),
        exact=sum((s.exact for s in shares), Fraction(0)),
        floored=sum((s.floored for s in shares), ZERO),
        adjustment=sum((s.adjustment for s in shares), ZERO),
        amount=sum((s.amount for s in shares), ZERO),
        periods=tuple(pieces),
    )


def _sum_overheads(code: str, shares: list[ServiceShare]) -> ServiceShare:
    return ServiceShare(
        code=code, by=shares[0].by,
        value=sum((s.value for s in shares), Fraction(0)),
        total=sum((s.total for s in shares), Fraction(0)),
        exact=sum((s.exact for s in shares), Fraction(0)),
        floored=sum((s.floored for s in shares), ZERO),
        adjustment=sum((s.adjustment for s in shares), ZERO),
        amount=sum((s.amount for s in shares), ZERO),
    )


def allocate_by_key_periods(
    period: Any, bounds: list[tuple[date, date]],
    compute: Callable[[Span], PeriodAllocation],
) -> PeriodAllocation:
    """Compute each key period with ``compute`` and combine them into the period's result."""
    from accounting.allocation.runs.results import (
        Overheads,
        PeriodAllocation,
        ServiceAllocation,
    )

    parts = [
        (start, end, compute(Span(period.id, period.code, period.label, start, end)))
        for start, end in bounds
    ]
    first = parts[0][2]
    days = (period.end - period.start).days + 1
    result = PeriodAllocation(
        period_id=period.id, period_code=period.code, period_label=period.label,
        start=period.start, end=period.end, year=first.year, members=first.members,
        services=[], only=first.only,
    )
    for start, end, part in parts:
        where = span_label(start, end)
        result.errors += [f"{where} : {e}" for e in part.errors]
        result.warnings += [w for w in part.warnings if w not in result.warnings]
    result.warnings.append(
        "La période est répartie en " + str(len(parts)) + " périodes de clé ("
        + ", ".join(span_label(s, e) for s, e, _ in parts)
        + ") : une clé change en cours de période ; chaque période de clé est répartie "
        "exactement, les montants de chaque adhérent sont additionnés."
    )
    overheads = [p.overheads for _, _, p in parts if p.overheads is not None]
    if overheads:
        codes = sorted({c for o in overheads for c in o.shares})
        result.overheads = Overheads(
            overheads[0].service, sum((o.costs for o in overheads), ZERO),
            sum((o.subsidies for o in overheads), ZERO),
            {c: _sum_overheads(c, [o.shares[c] for o in overheads if c in o.shares])
             for c in codes},
        )  # fmt: skip
    codes = list(dict.fromkeys(s.service.code for _, _, p in parts for s in p.services))
    for code in codes:
        items = [(s, e, p.service(code)) for s, e, p in parts if code in
                 {x.service.code for x in p.services}]
        result.services.append(_combine_service(items, days, result.year, ServiceAllocation))
    return result


def _combine_service(items: list, days: int, year: int, cls: Any) -> Any:
    """One service over its key periods: the sums, the last key, and the detail."""
    last = items[-1][2]
    combined = cls(
        last.service, sum((i.costs for _, _, i in items), ZERO),
        sum((i.subsidies for _, _, i in items), ZERO),
    )
    combined.overheads = sum((i.overheads for _, _, i in items), ZERO)
    shares = [i.overheads_share for _, _, i in items if i.overheads_share is not None]
    combined.overheads_share = _sum_overheads(last.service.code, shares) if shares else None
    keyed = [i for _, _, i in items if i.key is not None]
    combined.key = keyed[-1].key if keyed else None
    combined.error = next((i.error for _, _, i in items if i.error is not None), None)
    combined.common_minutes = sum(i.common_minutes for _, _, i in items)
    combined.common_units = sum((i.common_units for _, _, i in items), ZERO)
    detail = [
        {"start": s.isoformat(), "end": e.isoformat(), "key": i.key_text,
         "key_valid_from": i.key.valid_from.isoformat() if i.key is not None else None,
         "costs": str(i.costs), "subsidies": str(i.subsidies), "overheads": str(i.overheads),
         "pool": str(i.pool), "inputs": i.inputs,
         "amounts": {c: str(a) for c, a in i.allocation.amounts.items()}
         if i.allocation is not None else {}}
        for s, e, i in items
    ]  # fmt: skip
    combined.inputs = {
        "key": combined.key_text,
        "key_valid_from": combined.key.valid_from.isoformat() if combined.key else None,
        "period_days": days, "year": year,
        "common_minutes": combined.common_minutes,
        "common_units": str(combined.common_units),
        "members": [], "overheads": None, "key_periods": detail,
    }  # fmt: skip
    if combined.error is None and all(i.allocation is not None for _, _, i in items):
        by_member: dict[str, list[tuple[date, date, str, MemberShare]]] = {}
        for s, e, i in items:
            for share in i.allocation.shares:
                by_member.setdefault(share.code, []).append((s, e, i.key_text, share))
        combined.allocation = Allocation(
            pool=combined.pool, key=parse_key(combined.key_text) if combined.key else None,
            period_days=days, common_minutes=combined.common_minutes,
            common_units=combined.common_units,
            shares=tuple(_sum_shares(c, days, by_member[c]) for c in sorted(by_member)),
            excluded=tuple(sorted(set.intersection(
                *(set(i.allocation.excluded) for _, _, i in items)
            ))),
        )  # fmt: skip
        combined.bases = items[-1][2].bases
    return combined

