"""Refusals of the budget area: French messages shown as they are (pages, CLI, API)."""

from __future__ import annotations


class BudgetError(ValueError):
    """A budget, a schedule, a call or a true-up refused; nothing was written."""


class BudgetClosedYear(BudgetError):
    """A budget for a fiscal year whose period is closed."""


class ScheduleOverlap(BudgetError):
    """A call schedule that would change calls already issued."""


class TrueUpRefused(BudgetError):
    """A true-up before the year's allocation is approved, or while another one runs."""
