"""French formats for templates (Babel): amounts ``12 345,67 €``, dates ``05/03/2026``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask

LOCALE = "fr_FR"
#: Parsed once: Babel would parse the locale name again on every call.
_FR = Locale.parse(LOCALE)


def money(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    return format_currency(value, "EUR", locale=_FR)


def number(value: Decimal | int | None, places: int = 2) -> str:
    if value is None:
        return "—"
    fmt = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=fmt, locale=_FR)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy HH:mm", tzinfo="Europe/Paris", locale=_FR)
    # Numbers only, so no locale data is needed: strftime is ~50x faster than Babel here,
    # which counts on pages that show hundreds of dates.
    return f"{value:%d/%m/%Y}"


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


def init_app(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(number)
    app.add_template_filter(date_fr)
    app.add_template_filter(hours)
    app.add_template_filter(decimal_hours)
