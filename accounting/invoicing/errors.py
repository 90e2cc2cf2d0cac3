"""Refusals of the invoicing area. Every message is French: it reaches the UI and the CLI as is."""

from __future__ import annotations


class InvoicingError(ValueError):
    """Base of every error of :mod:`accounting.invoicing`."""


class AllocationNotApproved(InvoicingError):
    """Invoices are built on approved allocation runs only."""


class AlreadyInvoiced(InvoicingError):
    """The period (or this member's part of it) already has issued invoices."""


class NothingToInvoice(InvoicingError):
    """No draft to issue, or no member with an amount to invoice."""


class MissingIdentity(InvoicingError):
    """A mandatory mention (SIRET, address, VAT number...) is missing from the carrier or a
    member; ``missing`` maps each party's label to the fields to complete."""

    def __init__(self, missing: dict[str, list[str]]) -> None:
        self.missing = missing
        parts = [f"{who} ({', '.join(fields)})" for who, fields in missing.items()]
        super().__init__(
            "Facturation impossible : complétez d'abord les mentions obligatoires — "
            + " ; ".join(parts)
            + "."
        )


class InvoiceImmutable(InvoicingError):
    """An issued invoice or credit note is never edited nor deleted (a credit note cancels it)."""


class NumberingError(InvoicingError):
    """The number series would not stay chronological."""


class CreditNoteRefused(InvoicingError):
    """A credit note that cannot be made (too large, on a draft, on a credit note...)."""


class PaymentRefused(InvoicingError):
    """A payment that cannot be recorded as given."""


class PeriodNotInvoiceable(InvoicingError):
    """The period is closed, or the invoice date falls in a closed period."""
