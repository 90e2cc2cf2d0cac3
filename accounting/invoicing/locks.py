"""The lock of invoiced periods, and the corrections that lift it (DESIGN §4, invariant 10).

Design: once a document of a period is issued, the work entries, costs and subsidies dated
inside the period are refused (``accounting.periods.ensure_writable``): they would never be
invoiced. The way out is either to book them in the open period, or to reopen the invoiced
period with a reason: that opens a ``PeriodCorrection`` — the period accepts them again — which
the next issue of the period's differences closes (the period is locked again, now with
documents that add up to the new approved run).

This module registers the lock and the reopen hook with :mod:`accounting.periods`, which
imports nothing of invoicing. Flushes, never commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Text, exists, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounting.audit import record_audit
from accounting.db import Base, utcnow
from accounting.invoicing.amounts import InvoiceRole, InvoiceStatus
from accounting.invoicing.models import Invoice
from accounting.periods import Period, day_lock, on_reopen


class PeriodCorrection(Base):
    """An invoiced period opened again for correction, with the reason given."""

    __tablename__ = "period_corrections"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    #: Set when the period's differences are issued: the period is locked again.
    closed_at: Mapped[Optional[datetime]]

    __table_args__ = (Index("ix_period_corrections_period", "period_id", "closed_at"),)


def _open_correction(period_id: object) -> object:
    return exists().where(
        PeriodCorrection.period_id == period_id, PeriodCorrection.closed_at.is_(None)
    )


def invoiced_ranges(session: Session) -> list[tuple[date, date, str]]:
    """The periods with an issued document and no correction open: (start, end, label).
    Calls for funds do not lock their period: they are advances, not the period's invoice."""
    rows = session.scalars(
        select(Period).where(
            exists().where(
                Invoice.period_id == Period.id, Invoice.status != InvoiceStatus.DRAFT.value,
                Invoice.role != InvoiceRole.CALL.value,
            ),
            ~_open_correction(Period.id),
        )
    )
    return [(p.start, p.end, p.label) for p in rows]


def is_invoiced(session: Session, period: Period) -> bool:
    return bool(session.scalar(
        select(exists().where(
            Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.role != InvoiceRole.CALL.value,
        ))
    ))


def correction_open(session: Session, period: Period) -> PeriodCorrection | None:
    return session.scalars(
        select(PeriodCorrection).where(
            PeriodCorrection.period_id == period.id, PeriodCorrection.closed_at.is_(None)
        )
    ).first()


def open_correction(
    session: Session, period: Period, reason: str, user_id: int | None = None
) -> bool:
    """Open ``period`` for correction when it is invoiced (the reopen hook); False when it is
    not invoiced or a correction is already open."""
    if not is_invoiced(session, period) or correction_open(session, period) is not None:
        return False
    session.add(PeriodCorrection(period_id=period.id, reason=reason, opened_by_id=user_id))
    session.flush()
    return True


def close_corrections(session: Session, period: Period) -> None:
    """The differences of ``period`` are issued: lock it again."""
    ids = list(session.scalars(
        select(PeriodCorrection.id).where(
            PeriodCorrection.period_id == period.id, PeriodCorrection.closed_at.is_(None)
        )
    ))
    if ids:
        session.execute(
            update(PeriodCorrection).where(PeriodCorrection.id.in_(ids)).values(
                closed_at=utcnow()
            )
        )
        record_audit(
            session, "lock", Period.__tablename__, period.id,
            after={"code": period.code, "corrections": ids},
        )


day_lock(invoiced_ranges)
on_reopen(open_correction)
