"""Fixtures of the fuzz tests, reused from the areas' tests: the small cluster of the timesheets
tests (members A and B, the COMPTA service with activities and units, staff of each role) and
the approved allocation of the invoices tests (ready to prepare and issue invoices)."""

from tests.invoices.conftest import billing, carrier, unapproved  # noqa: F401  (reused fixtures)
from tests.timesheets.conftest import cluster  # noqa: F401


def pytest_terminal_summary(terminalreporter: object) -> None:
    """How many fuzz cases ran, per area (the figure `make fuzz` reports in README)."""
    from tests.fuzz.strategies import CASES, EXAMPLES

    if not CASES:
        return
    write = terminalreporter.write_line  # type: ignore[attr-defined]
    write(f"fuzz cases run: {sum(CASES.values())} (MUTUALISE_FUZZ_EXAMPLES={EXAMPLES})")
    for area, number in sorted(CASES.items()):
        write(f"  {area}: {number}")
