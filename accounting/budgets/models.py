"""Tables of the year's cash (DESIGN §5b): budgets and their revisions, the call schedule of a
fiscal year, and the true-up rounds.

Design overview:

* A ``Budget`` is one *revision* of the budget of a service for a fiscal year: a revision is
  never changed, a new one is added (``revision`` 1, 2, …; the highest is in force), so every
  state of the budget stays readable; each row is audited. Its ``BudgetLine`` rows are the
  expected costs and subsidies by account.
* The ``CallSchedule`` of a year says how often funds are called (monthly or quarterly) and
  how a revision's difference is caught up (at once, on the next call, spread — default).
* Calls themselves are invoices (``Invoice.role == 'call'``): same series, same mentions, same
  immutability; their lines credit 4191 (advances received) until the true-up.
* ``TrueUp`` is one round of the year-end true-up: the unique (year, round) is what refuses
  two true-ups run at once (the second insert fails), besides the series lock.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounting.db import Base, utcnow
from accounting.money import ZERO
from accounting.org import Service

#: PCG 4191 « Clients – avances et acomptes reçus sur commandes »: where calls are credited.
ADVANCES_ACCOUNT = "419100"


class LineKind(enum.StrEnum):
    COST = "cost"
    SUBSIDY = "subsidy"

    @property
    def label(self) -> str:
        return {"cost": "Charge", "subsidy": "Subvention"}[self.value]


class Frequency(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def label(self) -> str:
        return {"monthly": "mensuels", "quarterly": "trimestriels"}[self.value]

    @property
    def count(self) -> int:
        return 12 if self is Frequency.MONTHLY else 4


class CatchUp(enum.StrEnum):
    """How a revision's difference with the calls already issued is caught up (DESIGN §5b)."""

    AT_ONCE = "at_once"  #: a call of the difference now
    NEXT = "next"  #: all of it on the next call
    SPREAD = "spread"  #: spread over the remaining calls (default)

    @property
    def label(self) -> str:
        return {
            "at_once": "appelé immédiatement",
            "next": "sur le prochain appel",
            "spread": "étalé sur les appels restants",
        }[self.value]


class Budget(Base):
    """One revision of a service's budget for a fiscal year, as voted."""

    __tablename__ = "budgets"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    year: Mapped[int]
    revision: Mapped[int] = mapped_column(default=1)
    agreed_on: Mapped[date]
    agreed_by: Mapped[str] = mapped_column(String(200))
    #: Why this revision (empty for the first vote).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: A key stated for calls (key grammar); empty: the agreed key, measured bases replaced by
    #: last year's shares.
    call_key: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    service: Mapped[Service] = relationship()
    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="budget", order_by="BudgetLine.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("service_id", "year", "revision", name="uq_budgets_revision"),
        CheckConstraint("revision >= 1", name="revision"),
        Index("ix_budgets_year", "year", "service_id"),
    )

    @property
    def costs(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == LineKind.COST), ZERO)

    @property
    def subsidies(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == LineKind.SUBSIDY), ZERO)

    @property
    def net(self) -> Decimal:
        """The pool the members are called for: costs − subsidies."""
        return self.costs - self.subsidies


class BudgetLine(Base):
    """An expected cost or subsidy of a budget revision, on one account."""

    __tablename__ = "budget_lines"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    account: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal]

    budget: Mapped[Budget] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("budget_id", "position"),
        CheckConstraint("kind IN ('cost', 'subsidy')", name="kind"),
        CheckConstraint("amount >= 0", name="amount_positive"),
    )


class CallSchedule(Base):
    """How often the funds of a fiscal year are called, and how revisions are caught up."""

    __tablename__ = "call_schedules"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    frequency: Mapped[str] = mapped_column(String(10), default=Frequency.QUARTERLY)
    catch_up: Mapped[str] = mapped_column(String(10), default=CatchUp.SPREAD)
    #: Day of the period's first month the call is dated (1: first day, DESIGN §5b).
    day: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        CheckConstraint("frequency IN ('monthly', 'quarterly')", name="frequency"),
        CheckConstraint("catch_up IN ('at_once', 'next', 'spread')", name="catch_up"),
        CheckConstraint("day BETWEEN 1 AND 28", name="day"),
    )


class TrueUp(Base):
    """One round of a fiscal year's true-up (a correction of the year's allocation adds one)."""

    __tablename__ = "true_ups"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    round: Mapped[int] = mapped_column(default=1)
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("allocation_runs.id"))
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_by: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (UniqueConstraint("year", "round", name="uq_true_ups_round"),)
