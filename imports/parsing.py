"""Parsers for the cells of real-world files: durations, dates, decimals, integers.

Each parser takes what a cell holds (a string from a CSV, or a value a spreadsheet typed: a date,
a number, a duration) and returns one exact value, or raises a typed :class:`InvalidValue`
whose French message names the value and the accepted formats. Importers turn that into a
:class:`~imports.errors.RowError` with the row and column (``ErrorList.parse`` does it).

Invariants:
- strict, not clever: a value is either read one unambiguous way or refused; ``1e9``, ``nan``,
  ``--`` are refused, never guessed;
- durations are integer minutes (``> 0`` and at most ``max_minutes``), rounded half-up from
  seconds or decimal hours;
- numbers are ``Decimal`` built from the text, never through ``float``; a comma is the decimal
  separator as in France, a dot is accepted too, and spaces (also NBSP) group thousands;
- dates are day-first (``05/03/2026`` is 5 March) or ISO (``2026-03-05``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from imports.errors import InvalidValue

__all__ = [
    "DATE_FORMATS",
    "DURATION_FORMATS",
    "InvalidDate",
    "InvalidDuration",
    "InvalidNumber",
    "excel_serial_to_date",
    "format_minutes",
    "parse_date",
    "parse_decimal",
    "parse_duration",
    "parse_int",
]


class InvalidDuration(InvalidValue):
    """A duration cell that cannot be read, or is zero, negative or absurd."""


class InvalidDate(InvalidValue):
    """A date cell that cannot be read, does not exist, or is out of range."""


class InvalidNumber(InvalidValue):
    """A decimal or integer cell that cannot be read, or breaks its bounds."""


#: Shown to the user in messages and on forms.
DURATION_FORMATS = "1,5 ou 1.5 (heures), 1h30, 1:30 ou 90m"
DATE_FORMATS = "2026-03-05 ou 05/03/2026"

#: A single entry above this is absurd: nobody works more than a day in one line.
MAX_ENTRY_MINUTES = 24 * 60

_SHOWN_LENGTH = 40
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")


def _shown(value: object) -> str:
    """The value as quoted in a message, cut so a huge cell does not flood the screen."""
    text = str(value)
    if len(text) > _SHOWN_LENGTH:
        text = text[: _SHOWN_LENGTH - 1] + "…"
    return f"« {text} »"


# ---------------------------------------------------------------- durations

_DECIMAL_HOURS = re.compile(r"(\d{0,4})(?:[.,](\d{1,6}))?h?")
_HOURS_MINUTES = re.compile(r"(\d{1,4})h(\d{1,2})(?:m|mn|min)?")
_CLOCK = re.compile(r"(\d{1,4}):(\d{2})(?::(\d{2}))?")
_MINUTES = re.compile(r"(\d{1,6})(?:m|mn|min|mins|minutes?)")


def parse_duration(value: object, *, max_minutes: int = MAX_ENTRY_MINUTES) -> int:
    """Read a duration as integer minutes.

    Accepted: decimal hours ``1,5`` / ``1.5`` / ``2`` / ``1,5h``; ``1h30`` / ``1h`` / ``1 h 30``;
    clock ``1:30`` or ``0:06:40`` (Kimai); minutes ``90m`` / ``90 min``; and the typed cells of a
    spreadsheet: a ``timedelta`` (an ``[hh]:mm`` cell), a ``time``, a number of hours.
    Seconds and fractions of a minute are rounded half-up to the minute.
    """
    if isinstance(value, bool):
        raise InvalidDuration(
            f"Durée illisible {_shown(value)} : formats acceptés {DURATION_FORMATS}."
        )
    if isinstance(value, timedelta):
        return _check_minutes(_round_seconds(value.total_seconds()), value, max_minutes)
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return _check_minutes(_round_seconds(seconds), value, max_minutes)
    if isinstance(value, int | float | Decimal):
        value = repr(value) if isinstance(value, float) else str(value)
    if value is None:
        raise InvalidDuration("Durée manquante.")
    text = str(value)
    compact = _SPACES.sub("", text).lower()
    if not compact:
        raise InvalidDuration("Durée manquante.")
    negative = compact[0] in "-−"
    if negative:
        compact = compact[1:]
    minutes = _read_duration(compact)
    if minutes is None:
        raise InvalidDuration(
            f"Durée illisible {_shown(text.strip())} : formats acceptés {DURATION_FORMATS}."
        )
    if negative and minutes:
        raise InvalidDuration(f"La durée ne peut pas être négative ({_shown(text.strip())}).")
    return _check_minutes(minutes, text.strip(), max_minutes)


def _read_duration(compact: str) -> int | None:
    """Minutes for a compact lower-case duration text, or None if it has no accepted form."""
    if match := _HOURS_MINUTES.fullmatch(compact):
        hours, minutes = int(match[1]), int(match[2])
        return None if minutes >= 60 else hours * 60 + minutes
    if match := _CLOCK.fullmatch(compact):
        hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
        if minutes >= 60 or seconds >= 60:
            return None
        return _round_seconds(hours * 3600 + minutes * 60 + seconds)
    if match := _MINUTES.fullmatch(compact):
        return int(match[1])
    if (match := _DECIMAL_HOURS.fullmatch(compact)) and (match[1] or match[2]):
        hours = Decimal(f"{match[1] or 0}.{match[2] or 0}")
        return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return None


def _round_seconds(seconds: float) -> int:
    """Seconds to minutes, half-up (40 s -> 1 min, 29 s -> 0)."""
    return int((Decimal(str(seconds)) / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check_minutes(minutes: int, shown: object, max_minutes: int) -> int:
    if minutes < 0:
        raise InvalidDuration(f"La durée ne peut pas être négative ({_shown(shown)}).")
    if minutes == 0:
        raise InvalidDuration(f"La durée doit être supérieure à zéro ({_shown(shown)}).")
    if minutes > max_minutes:
        raise InvalidDuration(
            f"Durée invalide {_shown(shown)} : plus de {format_minutes(max_minutes)} "
            "pour une seule saisie."
        )
    return minutes


def format_minutes(minutes: int) -> str:
    """``90`` -> ``1h30``, ``120`` -> ``2h``, ``5`` -> ``0h05``: the compact form users type."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}h{rest:02d}" if rest else f"{sign}{hours}h"


# ---------------------------------------------------------------- dates

_EXCEL_EPOCH = date(1899, 12, 30)
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)
_DAY_FIRST = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")


def parse_date(value: object, *, min_year: int = 1900, max_year: int = 2100) -> date:
    """Read a date: ``2026-03-05``, ``05/03/2026`` (day first; ``.`` or ``-`` too; 2-digit
    years are 20xx), ``20260305`` (FEC), a spreadsheet date cell (``date``/``datetime``) or an
    Excel serial number (``46086`` is 2026-03-05). A time of day after the date is ignored.
    """
    if isinstance(value, datetime):
        return _check_year(value.date(), value, min_year, max_year)
    if isinstance(value, date):
        return _check_year(value, value, min_year, max_year)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _check_year(excel_serial_to_date(value), value, min_year, max_year)
    if value is None or not str(value).strip():
        raise InvalidDate("Date manquante.")
    text = str(value).strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            year += 2000
    elif match := _COMPACT_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _SERIAL.fullmatch(text):
        return _check_year(excel_serial_to_date(float(text)), text, min_year, max_year)
    else:
        raise InvalidDate(f"Date illisible {_shown(text)} : formats acceptés {DATE_FORMATS}.")
    try:
        result = date(year, month, day)
    except ValueError:
        raise InvalidDate(f"Date inexistante {_shown(text)}.") from None
    return _check_year(result, text, min_year, max_year)


def excel_serial_to_date(serial: float) -> date:
    """The date of an Excel serial number (1900 date system, as Excel and LibreOffice write)."""
    try:
        return _EXCEL_EPOCH + timedelta(days=int(serial))
    except (OverflowError, ValueError):
        raise InvalidDate(
            f"Date illisible {_shown(serial)} : formats acceptés {DATE_FORMATS}."
        ) from None


def _check_year(result: date, shown: object, min_year: int, max_year: int) -> date:
    if not min_year <= result.year <= max_year:
        raise InvalidDate(
            f"Date hors limites {_shown(shown)} : l'année doit être entre {min_year} et {max_year}."
        )
    return result


# ---------------------------------------------------------------- numbers

_NUMBER = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")
_CURRENCY = re.compile(r"^(?:€|eur)|(?:€|eur)$", re.IGNORECASE)
_MAX_DIGITS = 18


def parse_decimal(
    value: object,
    *,
    max_places: int | None = None,
    allow_negative: bool = True,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """Read an exact decimal: ``1 234,56`` (spaces, NBSP or narrow NBSP between thousands),
    ``1234.56``, ``1.234,56``, ``1,234.56``, ``-12,5``, ``12,50 €``.

    With one kind of separator only, it is the decimal mark (``1,234`` is 1.234, as in France),
    unless it appears more than once (``1.234.567``). With both, the last one is the decimal mark.
    """
    if isinstance(value, bool):
        raise InvalidNumber(f"Nombre illisible {_shown(value)}.")
    if isinstance(value, Decimal):
        number = value
        if not number.is_finite():
            raise InvalidNumber(f"Nombre illisible {_shown(value)}.")
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        if isinstance(value, float):
            value = repr(value)
        number = _read_decimal_text(value)
    if number.as_tuple().exponent < 0 and max_places is not None:
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > max_places:
            raise InvalidNumber(f"Trop de décimales dans {_shown(value)} : au plus {max_places}.")
    if number < 0 and not allow_negative:
        raise InvalidNumber(f"Nombre négatif refusé {_shown(value)}.")
    if minimum is not None and number < minimum:
        raise InvalidNumber(f"Nombre trop petit {_shown(value)} : au moins {minimum}.")
    if maximum is not None and number > maximum:
        raise InvalidNumber(f"Nombre trop grand {_shown(value)} : au plus {maximum}.")
    return number


def _read_decimal_text(value: object) -> Decimal:
    if value is None or not str(value).strip():
        raise InvalidNumber("Nombre manquant.")
    text = str(value).strip()
    refused = InvalidNumber(
        f"Nombre illisible {_shown(text)} : écrivez par exemple 1 234,56 ou 1234.56."
    )
    compact = _CURRENCY.sub("", text).strip().replace("−", "-")
    sign = ""
    if compact[:1] in "+-":
        sign, compact = compact[0], compact[1:].lstrip()
    groups = _SPACES.split(compact)
    if len(groups) > 1 and not all(len(group) == 3 for group in groups[1:-1]):
        raise refused
    if len(groups) > 1:
        # The last space group may carry the decimals: "1 234,56".
        last = re.split(r"[.,]", groups[-1], maxsplit=1)[0]
        if len(last) != 3 or not groups[0]:
            raise refused
    compact = "".join(groups)
    normalized = _normalize_separators(compact)
    if normalized is None:
        raise refused
    normalized = sign + normalized
    match = _NUMBER.fullmatch(normalized)
    if not match or len(match[1]) > _MAX_DIGITS:
        raise refused
    try:
        return Decimal(normalized)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a literal
        raise refused from None


def _normalize_separators(text: str) -> str | None:
    """``1.234,56`` -> ``1234.56``; None when the separators make no sense."""
    if text.startswith((".", ",")):
        text = "0" + text
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        whole, _, fraction = text.rpartition(decimal_mark)
        if thousands in fraction or not _grouped(whole, thousands):
            return None
        return whole.replace(thousands, "") + "." + fraction
    mark, count = (",", commas) if commas else (".", dots)
    if count <= 1:
        return text.replace(",", ".")
    return text.replace(mark, "") if _grouped(text, mark) else None


def _grouped(text: str, separator: str) -> bool:
    """True when ``text`` is digits grouped by three with ``separator`` (``1.234.567``)."""
    groups = text.split(separator)
    return (
        1 <= len(groups[0]) <= 3
        and all(len(group) == 3 for group in groups[1:])
        and all(group.isdigit() for group in groups)
    )


def parse_int(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Read a whole number (``12``, ``1 234``; ``12,0`` from a spreadsheet is 12)."""
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise InvalidNumber(f"Nombre entier attendu, pas {_shown(value)}.")
    result = int(number)
    if minimum is not None and result < minimum:
        raise InvalidNumber(f"Nombre trop petit {_shown(value)} : au moins {minimum}.")
    if maximum is not None and result > maximum:
        raise InvalidNumber(f"Nombre trop grand {_shown(value)} : au plus {maximum}.")
    return result
