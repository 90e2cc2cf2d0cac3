"""Fixtures of the fuzz tests: the small cluster of the timesheets tests (members A and B, the
COMPTA service with its activities and unit types, staff of each role)."""

from tests.timesheets.conftest import cluster  # noqa: F401  (reused fixture)
