"""Money as exact decimals.

Invariant: every amount is a ``Decimal`` built from a string or an integer, never from a
``float``, and rounded only at named places with an explicit mode (``ROUND_HALF_UP`` for
display totals such as VAT, ``ROUND_FLOOR`` in the allocation engine).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: The largest amount stored (``NUMERIC(14, 2)``): anything larger is refused when typed,
#: rather than failing in the database (or in ``quantize``, past 28 digits).
MAX_AMOUNT = Decimal("999999999999.99")

_SPACES = re.compile(r"[\s\u00a0\u202f']")


class MoneyError(ValueError):
    """A text that is not an amount (message in French: it reaches the UI)."""


def plain_decimal(value: Decimal | str) -> str:
    """``40``, ``2.5``, ``0.5``: a number as people write it, without useless zeros and never
    in exponent notation (``str(Decimal("40.000").normalize())`` is ``4E+1``, which a reader of
    a screen or a file would not recognise)."""
    return format(Decimal(value).normalize(), "f")


def D(value: str | int | Decimal) -> Decimal:
    """Build an exact Decimal from a string (French or English notation) or an integer.

    Floats are refused: a float already lost the cents we are asked to keep.
    """
    if isinstance(value, bool | float):
        raise TypeError("floats are not money: pass a string")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return parse_amount(value)


def parse_amount(text: str) -> Decimal:
    """Read ``1 234,56``, ``1234.56``, ``-12,5`` or ``1.234,56`` as an exact Decimal."""
    raw = _SPACES.sub("", text.strip()).replace("€", "")
    if not raw:
        raise MoneyError("montant vide")
    if "," in raw and "." in raw:
        # The last separator is the decimal one: 1.234,56 or 1,234.56.
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        raise MoneyError(f"« {text} » n'est pas un montant")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards it
        raise MoneyError(f"« {text} » n'est pas un montant") from exc
    if abs(value) > MAX_AMOUNT:
        raise MoneyError(
            f"« {text.strip()[:30]} » : montant trop grand (au plus 999 999 999 999,99 €)"
        )
    return value


def cents(value: Decimal) -> Decimal:
    """Round half up to the cent: for totals shown on documents (VAT per rate)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_cents(value: Decimal) -> bool:
    """True when the value has no more than two decimal places."""
    return value == value.quantize(CENT)
