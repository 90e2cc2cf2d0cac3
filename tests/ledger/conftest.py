"""Fixtures of the ledger tests: the worked example of the invoices tests (pool 16 000 € of
salaries, A 3 333,34, B 5 333,33, C 7 333,33 excl. tax, VAT 20 %), issued on 5 February 2026."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accounting.invoicing.models import Invoice
from accounting.invoicing.services import issue_invoices, prepare_invoices
from tests.invoices.conftest import (  # noqa: F401 - fixtures shared with the invoices tests
    ISSUED_ON,
    Billing,
    billing,
    carrier,
    unapproved,
)


@pytest.fixture
def issued(db: Session, billing: Billing) -> list[Invoice]:  # noqa: F811
    """The three invoices of January 2026, issued (numbers 2026-0001 to 0003, A B C)."""
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=ISSUED_ON, issued_by="compta@test.fr")
