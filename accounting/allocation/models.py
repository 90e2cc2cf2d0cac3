"""Tables of the allocation area: agreed keys and stored allocation runs.

Design:

* ``AllocationKey``: the text of a key for one service, in force from ``valid_from`` until the
  next key of that service. Keys are versions, never rewritten: a new agreement adds a row
  from its date, and a row whose days are already closed or allocated by an approved run is
  never changed (``runs.set_key`` refuses). ``agreed_on`` / ``agreed_by`` say which meeting
  voted it.
* ``AllocationRun``: one stored computation of a period, with its inputs (per service: costs,
  subsidies, overheads share, the key text and every member's bases) and its results
  (``AllocationLine`` per member and service, each with its explanation as JSON), so that it can
  be explained and recomputed later. A run is ``stored`` then ``approved`` by the treasurer,
  which freezes it: invoices are built on approved runs only.
* At most one approved run per (period, service): a partial unique index on
  ``allocation_run_services`` (the Python check ``runs.approve_run`` comes first and also
  refuses overlapping periods, e.g. a month inside an approved quarter).
* Superseding (DESIGN §4): approving a run where one is approved for the same period marks the
  earlier one ``replaced`` (kept, readable, no longer invoiced) and records on the new one which
  run it replaced and why (``replaces_id``, ``replace_reason``). Invoicing the period again then
  issues only the differences (``accounting.invoicing.differences``).

Lines and run services are not audited row by row (a year's run is 20 000 lines): the run
itself is, and storing/approving write one business event each.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounting.allocation.keys import Key, parse_key
from accounting.db import Base, utcnow
from accounting.org import Member, Service
from accounting.periods import Period
from accounting.wording import state_word


class RunStatus(enum.StrEnum):
    STORED = "stored"  #: computed and kept, may still be replaced by another run
    APPROVED = "approved"  #: approved by the treasurer: frozen, invoices are built on it
    #: approved once, then replaced by a later approved run (kept, readable, never invoiced)
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return state_word("run", self.value)


class AllocationKey(Base):
    """The key agreed for a service, in force from ``valid_from`` until the next one."""

    __tablename__ = "allocation_keys"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    valid_from: Mapped[date]
    #: Canonical text of the key (``format_key``), as people read it aloud.
    text: Mapped[str] = mapped_column(String(1000))
    #: When and by whom it was agreed (e.g. « Réunion mensuelle des adhérents »).
    agreed_on: Mapped[Optional[date]]
    agreed_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    service: Mapped[Service] = relationship()

    __table_args__ = (UniqueConstraint("service_id", "valid_from"),)

    @property
    def key(self) -> Key:
        return parse_key(self.text)


class AllocationRun(Base):
    """One stored allocation of a period (all services, or one)."""

    __tablename__ = "allocation_runs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    status: Mapped[str] = mapped_column(String(10), default=RunStatus.STORED)
    #: Σ of the lines: the pools of the services covered.
    total: Mapped[Decimal]
    #: Period-level inputs: period code and days, fiscal year, step-down of the overheads.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[datetime]]
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    #: The approved run this one replaced when it was approved, and why (required, audited).
    replaces_id: Mapped[Optional[int]] = mapped_column(ForeignKey("allocation_runs.id"))
    replace_reason: Mapped[str] = mapped_column(Text, default="")
    #: When a later approval replaced this run (status ``replaced``).
    replaced_at: Mapped[Optional[datetime]]
    #: Why it was approved although work of the period was not validated (empty: it was).
    work_override: Mapped[str] = mapped_column(Text, default="")
    #: kind → SHA-256 of the period's raw inputs when the run was stored
    #: (``app.allocation.digest``): the run page compares them with today's to warn of a
    #: change without computing the period again. None: stored before they were kept.
    input_digests: Mapped[Optional[dict[str, str]]] = mapped_column(JSON)

    period: Mapped[Period] = relationship()
    services: Mapped[list[AllocationRunService]] = relationship(
        back_populates="run", order_by="AllocationRunService.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("status IN ('stored', 'approved', 'replaced')", name="status"),
        CheckConstraint(
            "(status IN ('approved', 'replaced')) = (approved_at IS NOT NULL)",
            name="approved_at",
        ),
        Index("ix_allocation_runs_period", "period_id", "status"),
    )

    @property
    def is_approved(self) -> bool:
        return self.status == RunStatus.APPROVED

    @property
    def is_replaced(self) -> bool:
        return self.status == RunStatus.REPLACED

    @property
    def status_label(self) -> str:
        return RunStatus(self.status).label


class AllocationRunService(Base):
    """One service inside a run: its pool, the key used and the inputs of the engine."""

    __tablename__ = "allocation_run_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    #: Copied from the run, for the "one approved run per period and service" index.
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    approved: Mapped[bool] = mapped_column(default=False)
    key_id: Mapped[Optional[int]] = mapped_column(ForeignKey("allocation_keys.id"))
    key_text: Mapped[str] = mapped_column(String(1000))
    costs: Mapped[Decimal]
    subsidies: Mapped[Decimal]
    #: Share of the overheads service received in the step-down (0 for the others).
    overheads: Mapped[Decimal]
    #: costs − subsidies + overheads: what the lines of this service add up to.
    pool: Mapped[Decimal]
    #: Engine inputs (members' bases, common work, period days) and pool-level explanation.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)

    run: Mapped[AllocationRun] = relationship(back_populates="services")
    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("run_id", "service_id"),
        CheckConstraint("pool = costs - subsidies + overheads", name="pool_sum"),
        Index(
            "uq_allocation_run_services_approved",
            "period_id",
            "service_id",
            unique=True,
            sqlite_where=text("approved"),
            postgresql_where=text("approved"),
        ),
    )


class AllocationLine(Base):
    """A member's amount for one service in a run, with its full explanation."""

    __tablename__ = "allocation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    amount: Mapped[Decimal]
    #: Exact share as a fraction « n/d » (the amount is it rounded by largest remainders).
    exact: Mapped[str] = mapped_column(String(200))
    #: The cent handed by the largest remainders (0.00 or 0.01).
    adjustment: Mapped[Decimal]
    #: ``MemberShare.to_dict()``: every part with basis value, total, share %, exact amount.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)

    member: Mapped[Member] = relationship()
    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("run_id", "service_id", "member_id"),
        CheckConstraint("adjustment >= 0", name="adjustment_positive"),
        Index("ix_allocation_lines_member", "member_id", "run_id"),
        # The run page: a page of members, their lines and the totals, from the index alone.
        Index("ix_allocation_lines_run_member", "run_id", "member_id", "service_id", "amount"),
    )


def approved_lines() -> Select[tuple[int, int, Decimal, str]]:
    """(member id, service id, amount, kind of the run's period) of the approved lines — a
    service's line counts once its approval in that run is given — to narrow with ``where``:
    the callers choose per service between the year's run and its shorter periods'."""
    return (
        select(AllocationLine.member_id, AllocationLine.service_id, AllocationLine.amount,
               Period.kind)
        .join(AllocationRunService, (AllocationRunService.run_id == AllocationLine.run_id)
              & (AllocationRunService.service_id == AllocationLine.service_id))
        .join(Period, Period.id == AllocationRunService.period_id)
        .where(AllocationRunService.approved)
    )  # fmt: skip
