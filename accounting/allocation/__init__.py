"""Allocation of the shared services' net costs to the members (DESIGN §4).

``keys`` parses and says the agreed keys, ``engine`` is the pure, exact allocation (no database,
no Flask); the models, runs and workbook modules build on them.
"""

from accounting.allocation.engine import (
    Allocation,
    MemberBasis,
    MemberShare,
    PartShare,
    Rounded,
    ServiceBasis,
    ServiceShare,
    active_days_between,
    allocate,
    largest_remainder,
    round_to_cents,
    step_down,
)
from accounting.allocation.errors import (
    AllocationError,
    InvalidFigure,
    InvalidFixedPercentages,
    InvalidKey,
    InvalidPool,
    KeySyntaxError,
    MissingFigures,
    NoBasis,
)
from accounting.allocation.keys import (
    Basis,
    BasisName,
    Key,
    KeyPart,
    describe_key_fr,
    format_key,
    format_key_fr,
    key_text_fr,
    parse_key,
)

__all__ = [
    "Allocation",
    "AllocationError",
    "Basis",
    "BasisName",
    "InvalidFigure",
    "InvalidFixedPercentages",
    "InvalidKey",
    "InvalidPool",
    "Key",
    "KeyPart",
    "KeySyntaxError",
    "MemberBasis",
    "MemberShare",
    "MissingFigures",
    "NoBasis",
    "PartShare",
    "Rounded",
    "ServiceBasis",
    "ServiceShare",
    "active_days_between",
    "allocate",
    "describe_key_fr",
    "format_key",
    "format_key_fr",
    "key_text_fr",
    "largest_remainder",
    "parse_key",
    "round_to_cents",
    "step_down",
]
