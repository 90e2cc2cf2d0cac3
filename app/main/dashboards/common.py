"""What every board shares: list limits, the heaviest members then the rest, date spans,
the audit log in words."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_

from accounting.invoicing.amounts import InvoiceStatus
from accounting.org import Member
from accounting.periods import MONTHS_FR, Period
from app.admin.audit_text import ACTION_LABELS, OBJECT_LABELS

#: Lists on a dashboard are short: the full lists are one click away.
LIST_LIMIT = 10
#: Per-member tables and charts show the heaviest members, the others merged into one row:
#: a glance must stay a glance with a thousand members.
TOP_MEMBERS = 15
#: Unpaid statuses of an issued invoice.
UNPAID = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value)
COMMON_WORK = "Travail commun"
R = TypeVar("R")
OVERHEADS_WORDS = {
    "costs": "frais de structure, répartis sur les autres services au prorata de leurs charges",
    "hours": "frais de structure, répartis sur les autres services au prorata des heures",
}


#: The audit log in words (actions and tables): the audit page's own words, so that an event
#: has one name on the dashboard and in the log; an unknown one shows as it is stored.
AUDIT_ACTIONS = ACTION_LABELS
AUDIT_OBJECTS = OBJECT_LABELS


def top_members(rows: list[R], weight: Callable[[R], Any], merge: Callable[[list[R]], R]
                ) -> list[R]:
    """The :data:`TOP_MEMBERS` heaviest rows in their order, then the rest merged into one
    row (totals over the rows stay exact)."""
    if len(rows) <= TOP_MEMBERS + 1:
        return rows
    kept = set(map(id, sorted(rows, key=weight, reverse=True)[:TOP_MEMBERS]))
    return [r for r in rows if id(r) in kept] + [merge([r for r in rows if id(r) not in kept])]


def others_label(count: int) -> str:
    return f"Autres adhérents ({count})"


# ----------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class Span:
    """A range of days, both inclusive."""

    start: date
    end: date

    @property
    def code(self) -> str:
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def month_label(self) -> str:
        """« novembre 2026 »."""
        return f"{MONTHS_FR[self.start.month - 1]} {self.start.year}"


def month_of(day: date) -> Span:
    return Span(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def week_of(day: date) -> Span:
    monday = day - timedelta(days=day.weekday())
    return Span(monday, monday + timedelta(days=6))


def months_back(day: date, count: int) -> date:
    """The first day of the month ``count`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def period_label(kind: str, start: date) -> str:
    """« mars 2026 », « T1 2026 », « 2026 » without loading the Period row."""
    return Period(kind=kind, start=start, end=start).label



def active_in(span: Span) -> list:
    return [
        Member.joined_on <= span.end,
        or_(Member.left_on.is_(None), Member.left_on >= span.start),
    ]
