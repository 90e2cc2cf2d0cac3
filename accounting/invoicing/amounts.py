"""The money rules of invoices, as pure functions over ``Decimal`` (no database).

Rounding happens at one named place, :func:`vat_amount`: VAT is rounded half up to the cent
**per rate** (CGI art. 242 nonies A asks for the VAT total per rate). Line VATs are then
distributed so that the lines of a rate add up to that rate's total: the line rounding alone
could drift by a cent or two from the per-rate total over many lines, and the document must not
show two different truths.

Also here: due dates (at most 60 days, Code de commerce L441-10), invoice statuses from what
was paid and credited, the proportional split of a partial credit note, and number formatting.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from accounting.allocation.engine import largest_remainder
from accounting.invoicing.errors import CreditNoteRefused, InvoicingError
from accounting.money import ZERO, cents
from accounting.org import VatRegime
from accounting.wording import state_word

K = TypeVar("K", bound=Hashable)

#: The standard French VAT rate, in percent.
STANDARD_VAT_RATE = Decimal("20.00")
#: Legal maximum between invoice date and due date (Code de commerce L441-10).
MAX_PAYMENT_TERMS_DAYS = 60
#: Fixed indemnity for recovery costs owed by a business customer paying late (D441-5).
RECOVERY_INDEMNITY = Decimal("40.00")
#: The e-invoicing reform's "nature of the operation": the carrier sells services.
OPERATION_NATURE = "Prestations de services"
#: No discount for early payment: the mention is still mandatory.
DISCOUNT_MENTION = "Escompte pour paiement anticipé : néant"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"  #: a re-invoice of the allocated costs
    CREDIT_NOTE = "credit_note"  #: an "avoir": cancels all or part of an issued invoice

    @property
    def label(self) -> str:
        return {"invoice": "Facture", "credit_note": "Avoir"}[self.value]


class InvoiceRole(enum.StrEnum):
    """What a document is for (DESIGN §5b): the re-invoicing of a period's allocation, a call
    for funds on account (« Appel de fonds », a facture d'acompte), or a year's true-up."""

    ALLOCATION = "allocation"
    CALL = "call"
    TRUE_UP = "true_up"


#: The type label of a call for funds, on the document and in lists.
CALL_LABEL = "Appel de fonds"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"  #: prepared, no number, may be replaced
    ISSUED = "issued"  #: numbered and immutable, nothing paid yet
    PARTLY_PAID = "partly_paid"
    PAID = "paid"  #: nothing left to pay (paid, or paid and partly credited)
    CANCELLED = "cancelled"  #: fully cancelled by credit notes

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {status: state_word("invoice", status.value) for status in InvoiceStatus}


class PaymentMethod(enum.StrEnum):
    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct_debit"
    CHEQUE = "cheque"
    CASH = "cash"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "transfer": "Virement",
            "direct_debit": "Prélèvement",
            "cheque": "Chèque",
            "cash": "Espèces",
            "other": "Autre",
        }[self.value]


def vat_rate_for(regime: str) -> Decimal:
    """The rate of a regime, in percent: 20 % standard, 0 under the 261 B exemption."""
    regime = VatRegime(regime)
    return STANDARD_VAT_RATE if regime is VatRegime.STANDARD else Decimal("0.00")


def vat_amount(base: Decimal, rate: Decimal) -> Decimal:
    """THE rounding place of VAT: ``base × rate %``, half up to the cent (symmetric for
    negative bases)."""
    return cents(base * rate / 100)


@dataclass(frozen=True)
class VatTotal:
    """One line of the VAT summary of a document."""

    regime: str
    rate: Decimal
    base: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.vat


def vat_summary(lines: Iterable[tuple[str, Decimal, Decimal]]) -> list[VatTotal]:
    """VAT per (regime, rate) from ``(regime, rate, base)`` lines, highest rate first."""
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for regime, rate, base in lines:
        bases[(regime, rate)] = bases.get((regime, rate), ZERO) + base
    return [
        VatTotal(regime, rate, base, vat_amount(base, rate))
        for (regime, rate), base in sorted(bases.items(), key=lambda kv: (-kv[0][1], kv[0][0]))
    ]


def line_vats(lines: Sequence[tuple[str, Decimal, Decimal]]) -> list[Decimal]:
    """The VAT of each ``(regime, rate, base)`` line, adding up per rate to :func:`vat_summary`.

    Each line is rounded on its own, then the difference with its rate's total (a cent or two
    at most) goes to the line of that rate with the largest base (the first one on a tie).
    """
    vats = [vat_amount(base, rate) for _, rate, base in lines]
    for total in vat_summary(lines):
        indexes = [i for i, (g, r, _) in enumerate(lines) if (g, r) == (total.regime, total.rate)]
        drift = total.vat - sum((vats[i] for i in indexes), ZERO)
        if drift:
            largest = max(indexes, key=lambda i: (abs(lines[i][2]), -i))
            vats[largest] += drift
    return vats


def due_date(issued_on: date, terms_days: int) -> date:
    """Invoice date + the carrier's terms; refused beyond the legal 60 days."""
    if not 0 <= terms_days <= MAX_PAYMENT_TERMS_DAYS:
        raise InvoicingError(
            f"Délai de paiement de {terms_days} jours refusé : entre 0 et "
            f"{MAX_PAYMENT_TERMS_DAYS} jours (article L441-10 du Code de commerce)."
        )
    return issued_on + timedelta(days=terms_days)


def status_after(total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """The status of an issued invoice from its total (incl. tax), what was paid and credited."""
    if credited >= total:
        # Fully cancelled, even if it had been paid: the payment then is the member's credit.
        return InvoiceStatus.CANCELLED
    if paid + credited >= total:
        return InvoiceStatus.PAID
    if paid > ZERO:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.ISSUED


def split_credit(amount: Decimal, remaining: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """Split a partial credit (excl. tax) over the lines in proportion to what is left of each,
    to the cent (largest remainders), never more than a line's remainder."""
    if amount <= ZERO:
        raise CreditNoteRefused("Le montant de l'avoir doit être positif.")
    weights = {k: max(v, ZERO) for k, v in remaining.items()}
    available = sum(weights.values(), ZERO)
    if amount > available:
        raise CreditNoteRefused(
            f"L'avoir demandé ({format_eur(amount)} HT) dépasse ce qui reste à créditer sur la "
            f"facture ({format_eur(available)} HT)."
        )
    return largest_remainder(amount, weights)


def allocate_oldest_first(
    amount: Decimal, outstanding: Sequence[tuple[K, Decimal]]
) -> dict[K, Decimal]:
    """Spread a payment over invoices in the order given (oldest first), each up to what it
    still owes; what is left is not allocated (kept as a credit on account by the caller)."""
    result: dict[K, Decimal] = {}
    left = amount
    for key, owed in outstanding:
        if left <= ZERO:
            break
        take = min(left, owed)
        if take > ZERO:
            result[key] = take
            left -= take
    return result


def format_number(year: int, sequence: int) -> str:
    """« 2026-0001 »: the year of the series and the rank in it."""
    return f"{year}-{sequence:04d}"


def format_eur(amount: Decimal) -> str:
    """« 1 234,56 € » for messages (non-breaking spaces)."""
    text = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"
