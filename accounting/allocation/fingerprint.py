"""Fingerprints of what an allocation was computed from, to tell when its inputs changed.

A stored run keeps, per kind of input, a SHA-256 of the figures the engine consumed (costs,
subsidies, work, members' figures and active days, keys); the run page computes them again on
today's data and names the kinds that differ (« les charges et les temps ont changé depuis le
calcul »), so nobody approves or invoices a run computed on yesterday's figures without a word.
Pure: it reads a ``PeriodAllocation``, never the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from accounting.allocation.runs import PeriodAllocation

#: The kinds of input, and how a warning names them.
KINDS_FR = {
    "costs": "les charges",
    "subsidies": "les subventions",
    "work": "les temps et unités d'œuvre",
    "figures": "les chiffres et dates d'adhésion des adhérents",
    "keys": "les clés",
}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_fingerprints(result: PeriodAllocation) -> dict[str, str]:
    """kind → SHA-256 of the inputs of that kind the allocation used."""
    costs: dict[str, str] = {}
    subsidies: dict[str, str] = {}
    work: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    keys: dict[str, Any] = {}
    if result.overheads is not None:
        code = result.overheads.service.code
        costs[code] = str(result.overheads.costs)
        subsidies[code] = str(result.overheads.subsidies)
    for item in result.services:
        code = item.service.code
        costs[code] = str(item.costs)
        subsidies[code] = str(item.subsidies)
        spans = item.inputs.get("key_periods")
        if spans:  # a period allocated as its key periods: each one's inputs
            work[code] = [(s["start"], s["inputs"].get("common_minutes"),
                           s["inputs"].get("common_units"),
                           [(m[0], m[4], m[5]) for m in s["inputs"].get("members", [])])
                          for s in spans]  # fmt: skip
            figures[code] = [[m[:4] for m in s["inputs"].get("members", [])] for s in spans]
            keys[code] = [(s["start"], s["key"], s["key_valid_from"]) for s in spans]
            continue
        work[code] = [
            str(item.common_minutes), str(item.common_units),
            sorted((b.code, b.minutes, str(b.units)) for b in item.bases if b.minutes or b.units),
        ]  # fmt: skip
        figures[code] = sorted(
            (b.code, b.active_days, str(b.revenue), str(b.headcount)) for b in item.bases
            if b.active_days
        )
        keys[code] = (
            item.key.text if item.key is not None else None,
            item.key.valid_from.isoformat() if item.key is not None else None,
        )
    return {
        "costs": _digest(costs), "subsidies": _digest(subsidies), "work": _digest(work),
        "figures": _digest(figures), "keys": _digest(keys),
    }  # fmt: skip


def changed_inputs(stored: Mapping[str, str] | None, now: Mapping[str, str]) -> list[str]:
    """The French names of the kinds of input that differ (none when the run predates
    fingerprints: nothing to compare with)."""
    if not stored:
        return []
    return [label for kind, label in KINDS_FR.items() if stored.get(kind) != now.get(kind)]
