"""The allocation engine: a pure function of plain data, exact to the cent (DESIGN §4).

Design: every amount is computed as a ``Fraction`` (no rounding anywhere) from the pool, the key
and the members' bases; each member's total is then floored to the cent towards minus infinity
and the cents left over go one by one to the largest remainders, ties broken by member code.
Only the member's total is rounded, never a part. Invariants (property-tested):

* the amounts add up to the pool to the cent, whatever the pool's sign (a negative pool is
  allocated as credits the same way);
* each amount is within one cent of the member's exact share, and the result does not depend
  on the order of the members;
* a key that cannot be computed raises a subclass of ``AllocationError`` naming what is
  missing — never ``ZeroDivisionError``, never a silent zero. Only a zero pool may have nothing to
  share by (every share is then zero).

Every amount keeps its explanation (``PartShare``: pool shared, basis value, total basis,
share, exact amount) so that the UI, the workbook and the invoices can show each cent.

No database and no Flask here: callers aggregate the bases (``MemberBasis``) and pass them in.
Modules: ``inputs`` (what callers pass), ``proration`` (bases as integer weights, active
fraction), ``checks`` (refusals), ``core`` (``allocate``: lines of the key, common work),
``rounding`` (floor + largest remainder), ``explanation`` (``PartShare``, ``MemberShare``,
``Allocation``), ``stepdown`` (the overheads service across the other services).
"""

from accounting.allocation.engine.checks import FIGURE_NAMES_FR
from accounting.allocation.engine.core import allocate
from accounting.allocation.engine.explanation import Allocation, MemberShare, PartShare
from accounting.allocation.engine.inputs import CENT, ZERO, MemberBasis, ServiceBasis
from accounting.allocation.engine.proration import active_days_between
from accounting.allocation.engine.rounding import (
    Rounded,
    cents_to_decimal,
    fraction_str,
    largest_remainder,
    ratio_to_decimal,
    round_to_cents,
    to_decimal,
)
from accounting.allocation.engine.stepdown import ServiceShare, step_down

__all__ = [
    "CENT", "FIGURE_NAMES_FR", "ZERO", "Allocation", "MemberBasis", "MemberShare", "PartShare",
    "Rounded", "ServiceBasis", "ServiceShare", "active_days_between", "allocate",
    "cents_to_decimal", "fraction_str", "largest_remainder", "ratio_to_decimal",
    "round_to_cents", "step_down", "to_decimal",
]
