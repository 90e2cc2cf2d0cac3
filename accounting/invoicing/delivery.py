"""The send log of documents and reminders, and what a late invoice owes.

Design. Each attempt to send a document by e-mail is one :class:`Delivery` row: when, to
whom, what (the document itself or a reminder), the SMTP message id and the result. A
document counts as sent once one of its rows is ``sent`` for that purpose: sending a period
again sends only what was not sent (failures are retried), unless asked to resend. Nothing is
marked sent before the SMTP server accepted the message.

Reminders (relances): an issued invoice still owing something ``first_days`` after its due
date gets a first reminder, ``second_days`` after it a second one, each once. The reminder
states the late-payment penalties (the invoice's annual rate, simple interest from the day
after the due date to the reminder day, Code de commerce L441-10) and the fixed 40 € recovery
indemnity (D441-5).

Pure rules and the table: no Flask, no SMTP here (app.delivery sends).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounting.db import Base, utcnow
from accounting.invoicing.amounts import RECOVERY_INDEMNITY
from accounting.invoicing.models import Invoice
from accounting.money import ZERO


class Purpose(enum.StrEnum):
    DOCUMENT = "document"  #: the invoice or credit note itself
    REMINDER_1 = "reminder_1"  #: first reminder (relance)
    REMINDER_2 = "reminder_2"  #: second reminder

    @property
    def label(self) -> str:
        return {
            "document": "Envoi du document",
            "reminder_1": "Première relance",
            "reminder_2": "Seconde relance",
        }[self.value]


class Outcome(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"


class Delivery(Base):
    """One attempt to send one document (or one reminder about it) to one address."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    purpose: Mapped[str] = mapped_column(String(12), default=Purpose.DOCUMENT)
    recipient: Mapped[str] = mapped_column(String(200))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(8))
    #: The Message-ID header of the e-mail (``<…@host>``).
    message_id: Mapped[str] = mapped_column(String(250), default="")
    #: Why it failed, as the SMTP server or the checks said it.
    error: Mapped[str] = mapped_column(Text, default="")
    #: Who asked (an e-mail, « cli »).
    sent_by: Mapped[str] = mapped_column(String(200), default="")

    invoice: Mapped[Invoice] = relationship()

    __table_args__ = (
        CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p.value}'" for p in Purpose) + ")", name="purpose"
        ),
        CheckConstraint("outcome IN ('sent', 'failed')", name="outcome"),
        Index("ix_deliveries_invoice", "invoice_id", "purpose", "outcome"),
    )

    @property
    def purpose_label(self) -> str:
        return Purpose(self.purpose).label

    @property
    def sent(self) -> bool:
        return self.outcome == Outcome.SENT


@dataclass(frozen=True)
class LateCharges:
    """What a late invoice owes on ``on``: the penalties and the fixed indemnity."""

    outstanding: Decimal
    days_late: int
    rate: Decimal
    penalties: Decimal
    indemnity: Decimal

    @property
    def total(self) -> Decimal:
        return self.outstanding + self.penalties + self.indemnity


def late_charges(outstanding: Decimal, due_date: date, rate: Decimal, on: date) -> LateCharges:
    """Penalties: ``outstanding × rate % × days late / 365``, rounded half up to the cent
    (simple interest, from the day after the due date to ``on`` included); the indemnity is
    due as soon as the invoice is late (40 €)."""
    days = max((on - due_date).days, 0)
    penalties = (outstanding * rate * days / Decimal(36500)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    indemnity = RECOVERY_INDEMNITY if days > 0 and outstanding > ZERO else ZERO
    return LateCharges(outstanding, days, rate, penalties, indemnity)


def reminder_due(
    due_date: date, on: date, first_days: int, second_days: int, already: set[str]
) -> Purpose | None:
    """Which reminder an unpaid invoice gets on ``on`` (None: none yet, or both sent). A
    second reminder never comes before the first."""
    late = (on - due_date).days
    if Purpose.REMINDER_1 not in already:
        return Purpose.REMINDER_1 if late >= first_days else None
    if Purpose.REMINDER_2 not in already and late >= second_days:
        return Purpose.REMINDER_2
    return None


def validate_schedule(first_days: int, second_days: int) -> None:
    if not 1 <= first_days <= 365 or not 1 <= second_days <= 365:
        raise ValueError("Les délais de relance vont de 1 à 365 jours après l'échéance.")
    if second_days <= first_days:
        raise ValueError("La seconde relance vient après la première.")

