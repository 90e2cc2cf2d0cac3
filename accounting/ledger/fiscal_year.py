"""The carrier's fiscal year (« exercice comptable »): twelve months starting on the first day
of ``Carrier.fiscal_year_start_month`` (1 = January, the default: the calendar year).

Convention: a fiscal year is identified by the calendar year it **ends** in, as French
practice names an exercice by its closing year (the FEC's file name carries the closing date).
With a start in September, exercice 2026 runs from 1 September 2025 to 31 August 2026; with
the default January start, exercice 2026 is the calendar year 2026, as before the setting
existed.

Only the ledger's notion of a year follows this setting (FEC range and name, opening entries,
default ranges of the ledger screens). Invoice numbers and the numbers of journal entries stay
per calendar year (``2026-0001``, ``VT2026-000001``): the FEC only needs them unique.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Carrier

#: January: the fiscal year is the calendar year.
DEFAULT_START_MONTH = 1

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip


def parse_start_month(value: object) -> int:
    """The first month of a fiscal year from a form or the configuration file (``9`` or
    ``"9"``); ``ValueError`` with a French message otherwise, so every door refuses alike."""
    plain = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value).strip() if plain else ""
    if not text.isdigit() or not 1 <= int(text) <= 12:
        shown = "" if value is None else str(value)
        raise ValueError(
            f"Mois de début d'exercice invalide : « {shown} » ; un nombre de 1 (janvier) à 12 "
            "(décembre) est attendu."
        )
    return int(text)


def check_start_month(month: int) -> int:
    """The month, or ``ValueError`` (French) when it is not 1 to 12."""
    return parse_start_month(month)


def start_month_choices() -> list[tuple[str, str]]:
    """« 1 – janvier » ... « 12 – décembre », for a select."""
    return [(str(number), f"{number} – {name}") for number, name in enumerate(MONTHS_FR, 1)]


def fiscal_year_bounds(year: int, start_month: int = DEFAULT_START_MONTH) -> tuple[date, date]:
    """First and last day of the fiscal year that closes in ``year``."""
    check_start_month(start_month)
    if start_month == 1:
        return date(year, 1, 1), date(year, 12, 31)
    return date(year - 1, start_month, 1), date(year, start_month, 1) - timedelta(days=1)


def fiscal_year_of(day: date, start_month: int = DEFAULT_START_MONTH) -> int:
    """The fiscal year (its closing year) that ``day`` belongs to."""
    check_start_month(start_month)
    if start_month > 1 and day.month >= start_month:
        return day.year + 1
    return day.year


def fiscal_year_name(year: int, start_month: int = DEFAULT_START_MONTH) -> str:
    """« 2026 », or « 2025-2026 » when the fiscal year straddles two calendar years."""
    start, end = fiscal_year_bounds(year, start_month)
    return str(year) if start.year == end.year else f"{start.year}-{end.year}"


def fiscal_year_label(year: int, start_month: int = DEFAULT_START_MONTH) -> str:
    """« Exercice 2026 », or « Exercice 2025-2026 (01/09/2025 – 31/08/2026) »."""
    name = fiscal_year_name(year, start_month)
    if start_month == 1:
        return f"Exercice {name}"
    start, end = fiscal_year_bounds(year, start_month)
    return f"Exercice {name} ({start:%d/%m/%Y} – {end:%d/%m/%Y})"


def fiscal_years_spanned(
    first: date | None, last: date | None, start_month: int = DEFAULT_START_MONTH
) -> list[int]:
    """The fiscal years from ``first`` to ``last``, the most recent first (none without
    dates)."""
    if first is None or last is None:
        return []
    return list(range(fiscal_year_of(last, start_month), fiscal_year_of(first, start_month) - 1,
                      -1))  # fmt: skip


def carrier_start_month(session: Session) -> int:
    """The carrier's first month of the fiscal year (January when no carrier is set up)."""
    month = session.scalar(select(Carrier.fiscal_year_start_month).order_by(Carrier.id).limit(1))
    return month or DEFAULT_START_MONTH


def fiscal_year_span_fr(start_month: int = DEFAULT_START_MONTH) -> str:
    """« du 1er septembre au 31 août »: the span of every fiscal year, in words."""
    _, end = fiscal_year_bounds(2001, start_month)  # 2001: no 29 February to show
    return f"du 1er {MONTHS_FR[start_month - 1]} au {end.day} {MONTHS_FR[end.month - 1]}"
