"""Allocating a period from the database: keys in force, pools, step-down, stored runs.

Design: :func:`compute_period` gathers the plain inputs of the engine with a few aggregate
queries (costs and subsidies by service with ``GROUP BY``, members, the fiscal year's figures,
the keys) — no row is loaded per work entry. The work logged (minutes and units per service and
member) comes in as :class:`WorkTotals`, because timesheets sit above accounting in the layers;
``app.allocation.services.allocate_period`` runs that query and calls this module.

A refusal of the engine for one service does not hide the others: it is kept on that service
(``ServiceAllocation.error``) and in ``PeriodAllocation.errors``; such a result can be shown but
not stored. :func:`store_run` keeps inputs and results (lines with explanations),
:func:`approve_run` freezes a run after checking that the data has not changed since and that
no approved run already covers the same days for the same service.

Services here flush, never commit.

Modules, one per reason to change: ``results`` (the shapes), ``key_versions`` (the key in force,
recording a key), ``compute`` (a period from the database, ``replay``), ``compare`` (candidate
keys), ``store`` (store, delete, read back), ``approve`` (the treasurer's approval).
``MemberRef``, ``ServiceRef`` and ``Overheads``, the parts of a ``PeriodAllocation``, are in
``results``.
"""

from accounting.allocation.runs.approve import approve_run, approved_run_services
from accounting.allocation.runs.compare import Candidate, KeyComparison, compare_keys
from accounting.allocation.runs.compute import compute_period, replay
from accounting.allocation.runs.key_versions import key_in_force, keys_of_service, set_key
from accounting.allocation.runs.results import PeriodAllocation, ServiceAllocation, WorkTotals
from accounting.allocation.runs.store import (
    delete_run,
    line_share,
    load_run,
    run_amounts,
    run_lines,
    store_run,
)

__all__ = [
    "Candidate", "KeyComparison", "PeriodAllocation", "ServiceAllocation", "WorkTotals",
    "approve_run", "approved_run_services", "compare_keys", "compute_period", "delete_run",
    "key_in_force", "keys_of_service", "line_share", "load_run", "replay", "run_amounts",
    "run_lines", "set_key", "store_run",
]
