"""Timesheet records: activities and unit types per service, and the work entries themselves.

Invariants: minutes are whole, positive and at most 24 h a day per person (checked by the
services, the CHECK constraint is the last line); a work entry with no member is common work
for the whole cluster; an approved entry changes only after being sent back; nothing dated in
a closed period changes (accounting.periods.ensure_open).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounting.db import Base, Quantity, utcnow
from accounting.org import Member, Service, User
from accounting.wording import state_word


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return state_word("entry", self.value)


class Activity(Base):
    """A kind of work within a service (bookkeeping, payroll, prospecting, ...)."""

    __tablename__ = "activities"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    service: Mapped[Service] = relationship()

    __table_args__ = (UniqueConstraint("service_id", "name"),)


class UnitType(Base):
    """A countable output of a service with its weight (entry booked 1, payslip 5, ...)."""

    __tablename__ = "unit_types"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[Decimal] = mapped_column(Quantity())
    active: Mapped[bool] = mapped_column(default=True)

    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("service_id", "name"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )


#: Columns of the covering index of the list (by day first).
LIST_INDEX_COLUMNS = (
    "day",
    "status",
    "staff_id",
    "member_id",
    "service_id",
    "activity_id",
    "unit_type_id",
    "minutes",
    "quantity",
)


class WorkEntry(Base):
    __tablename__ = "work_entries"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date]
    minutes: Mapped[int] = mapped_column(default=0)
    #: None: common work for the whole cluster.
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    activity_id: Mapped[Optional[int]] = mapped_column(ForeignKey("activities.id"))
    unit_type_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit_types.id"))
    quantity: Mapped[Optional[Decimal]] = mapped_column(Quantity())
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=EntryStatus.DRAFT)
    #: Why an entry was sent back (shown to its author).
    review_comment: Mapped[str] = mapped_column(Text, default="")
    #: Fingerprint of the imported line, so that importing the same file twice adds nothing.
    import_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    staff: Mapped[User] = relationship(foreign_keys=[staff_id])
    member: Mapped[Optional[Member]] = relationship()
    service: Mapped[Service] = relationship()
    activity: Mapped[Optional[Activity]] = relationship()
    unit_type: Mapped[Optional[UnitType]] = relationship()

    __table_args__ = (
        CheckConstraint("minutes >= 0 AND minutes <= 1440", name="minutes_range"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity_positive"),
        CheckConstraint("status IN ('draft', 'submitted', 'approved')", name="status"),
        CheckConstraint(
            "(unit_type_id IS NULL) = (quantity IS NULL)", name="unit_type_with_quantity"
        ),
        # Covering index for the allocation bases and summaries (SUM by service, member, day;
        # the summary's weighted units too: migration 0018).
        Index(
            "ix_work_entries_service_day",
            "service_id", "day", "member_id", "minutes", "unit_type_id", "quantity",
        ),
        # Covering for the minutes of a person's day (the 24 h rule, imports) and the week.
        Index("ix_work_entries_staff_day", "staff_id", "day", "minutes"),
        Index("ix_work_entries_member_day", "member_id", "day"),
        # The list, the approvals and the monthly summary filter on a date range first; the
        # list's filters, sort keys and totals (count, minutes, units) are all in this index,
        # so a month's page and totals never read the table.
        Index("ix_work_entries_day", *LIST_INDEX_COLUMNS),
    )


class MappingKind(enum.StrEnum):
    """What an external name (in another tool's export) stands for here."""

    #: A Kimai customer -> a member (target_id), or common work (target_id NULL).
    CUSTOMER = "customer"
    #: A Kimai project -> a service.
    PROJECT = "project"
    #: A Kimai "project / activity" pair -> an activity of the project's service.
    ACTIVITY = "activity"
    #: A Kimai user name -> a staff user (when the export has no e-mail column).
    USER = "user"


class ImportMapping(Base):
    """A name in another tool's export, mapped once by the admin to our member, service,
    activity or user, and reused by every later import of that tool."""

    __tablename__ = "import_mappings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The tool: "kimai".
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    #: The name as it appears in the export (activities: "project\x1factivity").
    external: Mapped[str] = mapped_column(String(400))
    #: The id of the member, service, activity or user; NULL only for a customer that stands
    #: for common work.
    target_id: Mapped[Optional[int]]

    __table_args__ = (
        UniqueConstraint("source", "kind", "external"),
        CheckConstraint("kind IN ('customer', 'project', 'activity', 'user')", name="kind"),
        CheckConstraint("kind = 'customer' OR target_id IS NOT NULL", name="target"),
    )
