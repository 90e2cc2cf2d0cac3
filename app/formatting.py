"""French formats for templates (Babel): amounts ``12 345,67 €``, dates ``05/03/2026``.

Amounts and numbers go through Babel's patterns parsed once, and each distinct value is
formatted once per process (a small LRU): ``format_currency`` parses its pattern again on every
call (40 µs), and a page of invoices, balances or an allocation matrix shows hundreds of
amounts, most of them seen on the previous visit. The functions are pure (same value, same
text), so the memo changes nothing but the time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, parse_pattern
from flask import Flask

from accounting.allocation.keys import key_text_fr
from accounting.wording import STATES, plural_words, state_word

LOCALE = "fr_FR"
#: Parsed once: Babel would parse the locale name again on every call.
_FR = Locale.parse(LOCALE)
#: The cluster's time zone: moments are stored in UTC and shown in Paris time.
PARIS = ZoneInfo("Europe/Paris")


_CURRENCY: NumberPattern = _FR.currency_formats["standard"]


@lru_cache(maxsize=8)
def _decimal_pattern(places: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * places if places else ""))


@lru_cache(maxsize=16384)
def _money(value: Decimal | int) -> str:
    return _CURRENCY.apply(value, _FR, currency="EUR")


@lru_cache(maxsize=16384)
def _number(value: Decimal | int, places: int) -> str:
    return _decimal_pattern(places).apply(value, _FR)


def money(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    # A negative zero (a credit note that cancels a total) is shown « 0,00 € », not « -0,00 € »;
    # it also keeps the memo's answer the same whichever zero came first.
    return _money(abs(value) if value == 0 else value)


def number(value: Decimal | int | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return _number(abs(value) if value == 0 else value, places)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Naive datetimes are UTC (as Babel took them); strftime after converting to Paris time
        # gives Babel's « dd/MM/yyyy HH:mm » in a fortieth of the time (the audit log shows 50).
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return f"{moment.astimezone(PARIS):%d/%m/%Y %H:%M}"
    # Numbers only, so no locale data is needed: strftime is ~50x faster than Babel here,
    # which counts on pages that show hundreds of dates.
    return f"{value:%d/%m/%Y}"


def percent(value: Decimal | int | None, places: int = 4) -> str:
    """« 10 % », « 16,1486 % »: up to ``places`` decimals, the useless zeros dropped (the
    exact share stays readable where a treasurer checks it, « 10,0000 % » becomes « 10 % »)."""
    if value is None:
        return "—"
    text = number(value, places)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return f"{text}\u00a0%"


def month_fr(value: date | datetime | None) -> str:
    """« novembre 2026 » (a month in words, never « 11/2026 »)."""
    if value is None:
        return ""
    return format_date(value, "LLLL yyyy", locale=_FR)


def hours(minutes: int | None) -> str:
    """Minutes as « 1 h 30 »."""
    if minutes is None:
        return "—"
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(int(minutes)), 60)
    return f"{sign}{h} h {m:02d}" if m else f"{sign}{h} h"


def decimal_hours(minutes: int | None) -> str:
    """Minutes as decimal hours « 1,50 »."""
    if minutes is None:
        return "—"
    return number(Decimal(minutes) / 60, 2)


def plural(count: int | None, singular: str, plural_form: str | None = None) -> str:
    """« 1 événement », « 3 événements », « 0 saisie » (French: 0 and 1 take the singular);
    ``plural_form`` when adding an « s » is wrong (« travail » / « travaux »). Words of several
    parts are written whole: ``plural(n, "quantité enregistrée", "quantités enregistrées")``."""
    count = count or 0
    word = singular if abs(count) < 2 else (plural_form or plural_words(singular))
    return f"{number(count, 0)} {word}"


def badge_word(kind: str | None, status: str) -> str:
    """The word of a state badge: of ``kind`` when given, else of the first kind that has the
    state (entry, invoice, period, run: « approved » alone is a time entry's « Validée »)."""
    if kind is None:
        kind = next((k for k in ("entry", "invoice", "period", "run") if status in STATES[k]),
                    "entry")
    return state_word(kind, status)


def init_app(app: Flask) -> None:
    from app import cells

    app.add_template_global(badge_word, "state_word")
    app.add_template_global(cells.money_td)
    app.add_template_global(cells.amount_rows)
    app.add_template_global(cells.figure_tds)
    app.add_template_global(cells.figure_rows)
    app.add_template_global(cells.url_pattern)
    app.add_template_filter(plural)
    app.add_template_filter(month_fr)
    app.add_template_filter(percent)
    app.add_template_filter(money)
    app.add_template_filter(number)
    app.add_template_filter(date_fr)
    app.add_template_filter(hours)
    app.add_template_filter(decimal_hours)
    app.add_template_filter(key_text_fr, "key_fr")
