"""The use cases of invoicing: one function per act, each taking the session, flushing and never
committing (the caller's transaction is the unit of work; a rollback undoes everything,
numbers included). This module gathers them for the callers; each lives in its own module:

* :mod:`~accounting.invoicing.prepare` — :func:`prepare_invoices`: draft invoices of a period
  from its APPROVED allocation: one per member (never the carrier's own member), one line per
  service allocated.
* :mod:`~accounting.invoicing.issue` — :func:`issue_invoices`: number the drafts of a period,
  date them, snapshot the identities.
* :mod:`~accounting.invoicing.credit` — :func:`create_credit_note`: an "avoir", full or
  partial, in the same number series.
* :mod:`~accounting.invoicing.period_state` — :func:`period_has_issued_invoices`.
* :mod:`~accounting.invoicing.differences` / :mod:`~accounting.invoicing.locks` — what a
  period still has to invoice after a correction; the lock of invoiced periods.
* :mod:`~accounting.invoicing.parties` — the carrier, VAT regimes, mandatory mentions.

Payments, balances and overdue invoices are in :mod:`accounting.invoicing.payments`.

The ledger (issue 6) posts its journal entries from the documents these functions return, in
the same transaction (see ``app/invoices/usecases.py``).
"""

from accounting.invoicing.credit import create_credit_note, creditable
from accounting.invoicing.issue import invoice_by_number, issue_invoices
from accounting.invoicing.parties import (
    get_carrier,
    missing_mentions,
    resolve_vat_regime,
    set_vat_regime,
    vat_regimes,
)
from accounting.invoicing.period_state import (
    LIVE,
    period_has_issued_invoices,
)
from accounting.invoicing.prepare import delete_draft, draft_invoices, prepare_invoices

__all__ = [
    "LIVE", "create_credit_note", "creditable", "delete_draft", "draft_invoices", "get_carrier",
    "invoice_by_number", "issue_invoices", "missing_mentions", "period_has_issued_invoices",
    "prepare_invoices", "resolve_vat_regime", "set_vat_regime",
    "vat_regimes",
]
