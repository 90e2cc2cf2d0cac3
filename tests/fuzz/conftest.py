"""Fixtures of the fuzz tests, reused from the areas' tests: the small cluster of the timesheets
tests (members A and B, the COMPTA service with activities and units, staff of each role) and
the approved allocation of the invoices tests (ready to prepare and issue invoices)."""

from tests.invoices.conftest import billing, carrier, unapproved  # noqa: F401  (reused fixtures)
from tests.timesheets.conftest import cluster  # noqa: F401
