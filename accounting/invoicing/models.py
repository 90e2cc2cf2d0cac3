"""Tables of the invoicing area: invoices and credit notes, their lines, the number series,
payments and their allocation to invoices, and the VAT regime per member and service.

Design overview:

* ``Invoice`` holds both kinds of documents (``kind``: invoice or credit note): they share one
  number series per carrier and year and the same immutability. A document is created as a
  ``draft`` (no number; may be deleted and rebuilt), then *issued*: it gets its number, its
  date, its due date and a snapshot of the customer's and the carrier's identity, and from then
  on only its payment state may change (``status``, ``amount_paid``, ``amount_credited``).
* Numbers come from ``InvoiceSequence``, a counter row per carrier and year, locked with
  ``SELECT … FOR UPDATE`` inside the issuing transaction: two issuers wait for each other, and a
  rollback gives the numbers back (no gap). Dates never go backwards in a series.
* Immutability is enforced three times: the services refuse, the ORM refuses at flush
  (``InvoiceImmutable``, and bulk ORM updates/deletes of these tables are refused), and the
  database refuses raw SQL (triggers on PostgreSQL and on SQLite, created with the tables and by
  migration 0004).
* ``InvoiceLine`` carries its own VAT regime, rate and amount, and ``basis``: the allocation
  figures behind it (the invoice's annex), copied so that an issued invoice never depends on
  data that could change later.
* ``Payment`` is money received from a member; ``PaymentAllocation`` ties parts of it to
  invoices. What is not allocated is the member's credit on account (shown, never lost).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from accounting.addresses import Address, structured
from accounting.allocation.models import AllocationLine
from accounting.db import Base, Money, utcnow
from accounting.invoicing.amounts import (
    CALL_LABEL,
    InvoiceKind,
    InvoiceRole,
    InvoiceStatus,
    PaymentMethod,
    VatTotal,
    vat_summary,
)
from accounting.invoicing.errors import InvoiceImmutable
from accounting.invoicing.triggers import (
    MUTABLE_AFTER_ISSUE,
    POSTGRESQL_TRIGGERS,
    sqlite_triggers,
)
from accounting.money import ZERO
from accounting.org import Carrier, Member, Service, VatRegime
from accounting.periods import Period
from accounting.seal import Sealable, register_sealable


class VatRegimeRule(Base):
    """The VAT regime of a member for one service (``service_id`` NULL: all its services).

    Without a rule the carrier's default applies. The admin sets what the law allows; the app
    applies it and says so (DESIGN §5: the 261 B exemption needs members exempt under CGI
    261-4 / 261-7 or not liable to VAT).
    """

    __tablename__ = "vat_regime_rules"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("services.id"))
    regime: Mapped[str] = mapped_column(String(20))

    member: Mapped[Member] = relationship()
    service: Mapped[Optional[Service]] = relationship()

    __table_args__ = (
        UniqueConstraint("member_id", "service_id"),
        CheckConstraint(
            "regime IN (" + ", ".join(f"'{r.value}'" for r in VatRegime) + ")", name="regime"
        ),
    )


class InvoiceSequence(Base):
    """The counter of one number series (carrier × year): the last number given."""

    __tablename__ = "invoice_sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)
    #: Date of the last document numbered: the next one may not be dated earlier.
    last_issued_on: Mapped[Optional[date]]

    __table_args__ = (
        UniqueConstraint("carrier_id", "year"),
        CheckConstraint("last_number >= 0", name="last_number"),
    )


def kind_label(kind: str, role: str | None) -> str:
    """« Facture », « Avoir », or the call's label: of a document read as a row (lists that
    do not load the documents) as of :attr:`Invoice.kind_label`."""
    if role == InvoiceRole.CALL and kind != InvoiceKind.CREDIT_NOTE:
        return CALL_LABEL
    return InvoiceKind(kind).label


class Invoice(Base):
    """An invoice or a credit note (``kind``), draft then issued."""

    __tablename__ = "invoices"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default=InvoiceKind.INVOICE)
    status: Mapped[str] = mapped_column(String(12), default=InvoiceStatus.DRAFT)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    #: For a credit note: the invoice it cancels (in whole or in part), and why. NULL for a
    #: credit note of a negative allocation that no earlier invoice of the period can carry.
    original_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invoices.id"))
    #: For a supplementary invoice (a correction of the period's allocation): the earlier
    #: invoice of the member and period it completes.
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: allocation (default), call (a call for funds on account) or true_up (DESIGN §5b).
    role: Mapped[str] = mapped_column(
        String(12), default=InvoiceRole.ALLOCATION, server_default=InvoiceRole.ALLOCATION.value
    )

    #: « 2026-0001 », given at issue only.
    number: Mapped[Optional[str]] = mapped_column(String(20))
    year: Mapped[Optional[int]]
    sequence: Mapped[Optional[int]]
    issue_date: Mapped[Optional[date]]
    due_date: Mapped[Optional[date]]
    #: The period of the services invoiced.
    service_start: Mapped[date]
    service_end: Mapped[date]

    # Snapshot of the customer (the member) at issue.
    customer_code: Mapped[str] = mapped_column(String(20), default="")
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_address: Mapped[str] = mapped_column(Text, default="")
    customer_siren: Mapped[Optional[str]] = mapped_column(String(9))
    customer_siret: Mapped[Optional[str]] = mapped_column(String(14))
    customer_vat_number: Mapped[Optional[str]] = mapped_column(String(20))
    # Snapshot of the issuer (the carrier) and of its terms at issue.
    carrier_name: Mapped[str] = mapped_column(String(200), default="")
    carrier_address: Mapped[str] = mapped_column(Text, default="")
    carrier_siren: Mapped[Optional[str]] = mapped_column(String(9))
    carrier_siret: Mapped[Optional[str]] = mapped_column(String(14))
    carrier_vat_number: Mapped[Optional[str]] = mapped_column(String(20))
    carrier_iban: Mapped[Optional[str]] = mapped_column(String(34))
    carrier_bic: Mapped[Optional[str]] = mapped_column(String(11))
    carrier_email: Mapped[Optional[str]] = mapped_column(String(200))
    # Structured addresses and electronic addresses (migration 0009; NULL on documents issued
    # before it, whose address text is then split when read: accounting.addresses).
    customer_postcode: Mapped[Optional[str]] = mapped_column(String(10))
    customer_city: Mapped[Optional[str]] = mapped_column(String(100))
    customer_country: Mapped[Optional[str]] = mapped_column(String(2))
    customer_electronic_address: Mapped[Optional[str]] = mapped_column(String(120))
    carrier_postcode: Mapped[Optional[str]] = mapped_column(String(10))
    carrier_city: Mapped[Optional[str]] = mapped_column(String(100))
    carrier_country: Mapped[Optional[str]] = mapped_column(String(2))
    carrier_electronic_address: Mapped[Optional[str]] = mapped_column(String(120))
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    late_penalty_rate: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    vat_exemption_mention: Mapped[str] = mapped_column(String(300), default="")

    total_excl_tax: Mapped[Decimal] = mapped_column(default=ZERO)
    total_vat: Mapped[Decimal] = mapped_column(default=ZERO)
    total_incl_tax: Mapped[Decimal] = mapped_column(default=ZERO)
    #: Σ of the payments allocated to it (invoices only).
    amount_paid: Mapped[Decimal] = mapped_column(default=ZERO)
    #: Σ of its credit notes, incl. tax (invoices only).
    amount_credited: Mapped[Decimal] = mapped_column(default=ZERO)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[Optional[datetime]]
    #: Who issued it, as shown to people (an e-mail, « cli »).
    issued_by: Mapped[str] = mapped_column(String(200), default="")

    member: Mapped[Member] = relationship()
    carrier: Mapped[Carrier] = relationship()
    period: Mapped[Period] = relationship()
    original: Mapped[Optional[Invoice]] = relationship(
        remote_side="Invoice.id", back_populates="credit_notes", foreign_keys=[original_id]
    )
    corrects: Mapped[Optional[Invoice]] = relationship(
        remote_side="Invoice.id", foreign_keys=[corrects_id]
    )
    credit_notes: Mapped[list[Invoice]] = relationship(
        back_populates="original", order_by="Invoice.id", foreign_keys=[original_id]
    )
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        order_by="InvoiceLine.position",
        cascade="all, delete-orphan",
    )
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="invoice", order_by="PaymentAllocation.id"
    )

    __table_args__ = (
        UniqueConstraint("carrier_id", "number", name="uq_invoices_number"),
        UniqueConstraint("carrier_id", "year", "sequence", name="uq_invoices_sequence"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k.value}'" for k in InvoiceKind) + ")", name="kind"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in InvoiceStatus) + ")",
            name="status",
        ),
        CheckConstraint(
            "(status = 'draft') = (number IS NULL)", name="number_at_issue"
        ),
        CheckConstraint(
            "status = 'draft' OR (issue_date IS NOT NULL AND due_date IS NOT NULL "
            "AND year IS NOT NULL AND sequence IS NOT NULL)",
            name="issued_fields",
        ),
        CheckConstraint("due_date IS NULL OR due_date >= issue_date", name="due_after_issue"),
        CheckConstraint(
            "total_incl_tax = total_excl_tax + total_vat", name="totals"
        ),
        CheckConstraint("amount_paid >= 0 AND amount_credited >= 0", name="settled_positive"),
        CheckConstraint(
            "kind = 'credit_note' OR original_id IS NULL", name="credit_note_original"
        ),
        CheckConstraint("kind = 'invoice' OR corrects_id IS NULL", name="corrects_invoice"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r.value}'" for r in InvoiceRole) + ")", name="role"
        ),
        CheckConstraint("service_start <= service_end", name="service_dates"),
        Index("ix_invoices_member", "member_id", "status"),
        Index("ix_invoices_period", "period_id", "kind"),
        Index("ix_invoices_due", "status", "due_date"),
    )

    # -------------------------------------------------------------- reading

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def cited(self) -> Invoice | None:
        """The earlier invoice this document corrects: the original of a credit note, or the
        invoice a supplementary invoice completes (None for a first invoice, or a credit note
        of a negative allocation with nothing to cite)."""
        return self.original if self.is_credit_note else self.corrects

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_issued(self) -> bool:
        return self.status != InvoiceStatus.DRAFT

    @property
    def is_call(self) -> bool:
        return self.role == InvoiceRole.CALL

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind, self.role)

    @property
    def status_label(self) -> str:
        return InvoiceStatus(self.status).label

    @property
    def outstanding(self) -> Decimal:
        """What the member still owes on this invoice (0 for drafts and credit notes)."""
        if self.is_credit_note or self.is_draft:
            return ZERO
        return max(self.total_incl_tax - self.amount_paid - self.amount_credited, ZERO)

    @property
    def title(self) -> str:
        """« FACTURE N° 2026-0001 », « AVOIR N° … », « APPEL DE FONDS N° … » (documents)."""
        return f"{self.kind_label.upper()} N° {self.number}"

    @property
    def file_name(self) -> str:
        """« FACTURE-2026-0001.xlsx » / « AVOIR-2026-0002.xlsx » (drafts: « BROUILLON-12 »)."""
        if self.number is None:
            return f"BROUILLON-{self.id}.xlsx"
        prefix = "AVOIR" if self.is_credit_note else "APPEL" if self.is_call else "FACTURE"
        return f"{prefix}-{self.number}.xlsx"

    @property
    def customer_postal(self) -> Address:
        return structured(self.customer_address, self.customer_postcode, self.customer_city,
                          self.customer_country)

    @property
    def carrier_postal(self) -> Address:
        return structured(self.carrier_address, self.carrier_postcode, self.carrier_city,
                          self.carrier_country)

    @property
    def pdf_name(self) -> str:
        return self.file_name.removesuffix(".xlsx") + ".pdf"

    @property
    def vat_totals(self) -> list[VatTotal]:
        return vat_summary((line.vat_regime, line.vat_rate, line.amount_excl_tax)
                           for line in self.lines)

    @property
    def is_exempt_anywhere(self) -> bool:
        return any(line.vat_regime == VatRegime.EXEMPT_261B for line in self.lines)

    def __repr__(self) -> str:
        return f"<Invoice {self.kind} {self.number or f'draft#{self.id}'} {self.status}>"


class InvoiceLine(Base):
    """One service invoiced: its designation, amount excl. tax and its own VAT."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int]
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    #: For a credit-note line: the invoice line it credits.
    original_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invoice_lines.id"))
    #: For an invoice line: the approved allocation line it invoices.
    allocation_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("allocation_lines.id"))
    #: « Comptabilité / gestion — T1 2026 — 25 % part égale + 75 % au prorata des heures
    #: (30 h sur 60 h) »: the service, the period and the key in words with the member's figures.
    designation: Mapped[str] = mapped_column(Text)
    #: Revenue account of the service at the time (the ledger credits it).
    revenue_account: Mapped[str] = mapped_column(String(20))
    amount_excl_tax: Mapped[Decimal]
    vat_regime: Mapped[str] = mapped_column(String(20))
    #: Percent: 20.00, or 0.00 under the exemption.
    vat_rate: Mapped[Decimal]
    vat_amount: Mapped[Decimal]
    #: The allocation behind the line (the annex): key, pool, the member's explanation.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    service: Mapped[Service] = relationship()
    allocation_line: Mapped[Optional[AllocationLine]] = relationship()

    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint(
            "vat_regime IN (" + ", ".join(f"'{r.value}'" for r in VatRegime) + ")",
            name="vat_regime",
        ),
        CheckConstraint("vat_rate >= 0", name="vat_rate"),
    )

    @property
    def amount_incl_tax(self) -> Decimal:
        return self.amount_excl_tax + self.vat_amount


class Payment(Base):
    """Money received from a member (a transfer, a cheque...)."""

    __tablename__ = "payments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    paid_on: Mapped[date]
    amount: Mapped[Decimal]
    method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.TRANSFER)
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    #: Fingerprint of the imported row (same file twice adds nothing); NULL when typed in.
    import_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", order_by="PaymentAllocation.id", cascade="all"
    )

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "method IN (" + ", ".join(f"'{m.value}'" for m in PaymentMethod) + ")", name="method"
        ),
        Index("ix_payments_member", "member_id", "paid_on"),
    )

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)

    @property
    def unallocated(self) -> Decimal:
        """The part kept as the member's credit on account."""
        return self.amount - self.allocated

    @property
    def method_label(self) -> str:
        return PaymentMethod(self.method).label


class PaymentAllocation(Base):
    """The part of a payment that settles one invoice."""

    __tablename__ = "payment_allocations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal]

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship(back_populates="allocations")

    __table_args__ = (
        UniqueConstraint("payment_id", "invoice_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_allocations_invoice", "invoice_id"),
    )


def money_sum(expression: Any) -> Any:
    """``SUM(expression)`` read back as exact euros on both databases (0 when no row): the
    Money type is forced on the result, SQLite summing integer cents."""
    return type_coerce(func.coalesce(func.sum(expression), 0), Money())


# ------------------------------------------------------------------ immutability in the ORM


def _refuse(document: Invoice | None, what: str) -> InvoiceImmutable:
    from sqlalchemy import inspect

    label = "Ce document"
    if document is not None:
        history = inspect(document).attrs.number.history
        number = history.deleted[0] if history.deleted else document.number
        kinds = inspect(document).attrs.kind.history
        kind = kinds.deleted[0] if kinds.deleted else document.kind
        if number:
            label = f"{InvoiceKind(kind).label} {number}"
    return InvoiceImmutable(
        f"{label} est émis : il ne peut plus être {what}. Seul un avoir peut l'annuler."
    )


@event.listens_for(Invoice, "before_update")
def _invoice_before_update(mapper: Any, connection: Any, target: Invoice) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    status_history = state.attrs.status.history
    old_status = status_history.deleted[0] if status_history.deleted else target.status
    if old_status == InvoiceStatus.DRAFT:
        return
    changed = {
        attr.key
        for attr in mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }
    if changed - MUTABLE_AFTER_ISSUE or target.status == InvoiceStatus.DRAFT:
        raise _refuse(target, "modifié")


@event.listens_for(Invoice, "before_delete")
def _invoice_before_delete(mapper: Any, connection: Any, target: Invoice) -> None:
    status = connection.execute(
        select(Invoice.__table__.c.status).where(Invoice.__table__.c.id == target.id)
    ).scalar()
    if status is not None and status != InvoiceStatus.DRAFT:
        raise _refuse(target, "supprimé")


def _parent_status(connection: Any, invoice_id: int | None) -> str | None:
    if invoice_id is None:
        return None
    return connection.execute(
        select(Invoice.__table__.c.status).where(Invoice.__table__.c.id == invoice_id)
    ).scalar()


def _line_guard(what: str) -> Any:
    def guard(mapper: Any, connection: Any, target: InvoiceLine) -> None:
        from sqlalchemy import inspect

        state = inspect(target)
        ids = {target.invoice_id}
        ids.update(state.attrs.invoice_id.history.deleted or ())
        parent = state.dict.get("invoice")  # loaded already, never lazy-loaded here
        if (
            len(ids) == 1
            and parent is not None
            and parent.id == target.invoice_id
            and parent.status == InvoiceStatus.DRAFT
        ):
            # A draft of this session. (Turning an issued invoice back into a draft is refused
            # by its own before_update guard, and the database trigger checks the row anyway.)
            return
        for invoice_id in ids:
            status = _parent_status(connection, invoice_id)
            if status is not None and status != InvoiceStatus.DRAFT:
                raise InvoiceImmutable(
                    f"Les lignes d'un document émis ne peuvent plus être {what}. "
                    "Seul un avoir peut l'annuler."
                )

    return guard


event.listen(InvoiceLine, "before_insert", _line_guard("ajoutées"))
event.listen(InvoiceLine, "before_update", _line_guard("modifiées"))
event.listen(InvoiceLine, "before_delete", _line_guard("supprimées"))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state: ORMExecuteState) -> None:
    """``session.execute(update(Invoice)…)`` skips the unit of work and its checks: refused.
    The services change documents one by one, through the checks above."""
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_arguments.get("mapper")
    if entity is not None and entity.class_ in (Invoice, InvoiceLine):
        raise InvoiceImmutable(
            "Les factures et avoirs ne se modifient pas en masse : chaque document émis est "
            "définitif, seul un avoir peut l'annuler."
        )


# ------------------------------------------------------------------ immutability in the database


def _install_triggers(target: Any, connection: Any, **kw: Any) -> None:
    """After ``create_all`` made invoice_lines (the second table), add the triggers."""
    if connection.dialect.name == "postgresql":
        statements = POSTGRESQL_TRIGGERS
    elif connection.dialect.name == "sqlite":
        statements = sqlite_triggers([c.name for c in Invoice.__table__.columns])
    else:  # pragma: no cover - only the two supported databases
        return
    for statement in statements:
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(InvoiceLine.__table__, "after_create", _install_triggers)


#: Issued invoices and credit notes are sealed in the hash chain (accounting.seal): their row
#: and lines as issued; payment follow-up (MUTABLE_AFTER_ISSUE) is left out.
register_sealable(
    Sealable(
        Invoice.__tablename__,
        children=((InvoiceLine.__tablename__, "invoice_id"),),
        mutable=MUTABLE_AFTER_ISSUE,
        late=frozenset({"corrects_id"}),
        must_be_sealed=lambda t: t.c.status != InvoiceStatus.DRAFT.value,
        label=lambda row: row.get("number") or f"brouillon {row.get('id')}",
    )
)
