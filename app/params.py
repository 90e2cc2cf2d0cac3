"""Ids, pages and lists read from a query string or a form, checked at the edge.

Why not ``int(v) if v.isdigit()``: ``"²".isdigit()`` is true and ``int("²")`` raises (a 500),
and a 30-digit id reaches the database, which refuses it (SQLite's driver overflows,
PostgreSQL's integer is 32-bit). A tampered or mangled parameter gets a 400 page that names it
in French (the app's ``BadRequest`` handler shows the description); an empty one means "none".
A list parameter is bounded: a request of a million ids is refused before any query. The
refused value is not repeated in the message: it may name what the user may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.exceptions import BadRequest

#: The largest id PostgreSQL's ``integer`` holds (the ids of every table).
MAX_ID = 2**31 - 1
#: At most this many ids in one list parameter (a page shows 50 to 200 rows).
MAX_IDS = 1000
#: Pages beyond this are refused as nonsense, never computed.
MAX_PAGE = 1_000_000


class BadParameter(BadRequest):
    """A query-string or form parameter that is not what the page sends (French message)."""


def _number(value: str, name: str, what: str, high: int) -> int:
    text = value.strip()
    # Length first: int() of more than 4300 digits raises (Python's guard against slow parsing).
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not 1 <= int(text) <= high:
        raise BadParameter(
            f"Le paramètre « {name} » doit être {what} (entier de 1 à {high}) : valeur "
            "refusée. Rien n'a été enregistré."
        )
    return int(text)


def parse_id(value: str | None, name: str) -> int | None:
    """An id parameter: ``None`` when absent or empty, else an id in the database's range."""
    if value is None or not value.strip():
        return None
    return _number(value, name, "un identifiant", MAX_ID)


def parse_ids(values: Iterable[str], name: str, *, limit: int = MAX_IDS) -> list[int]:
    """A list of ids (a repeated parameter), empty values skipped, at most ``limit``."""
    checked = bounded_list(list(values), name, limit=limit)
    return [number for number in (parse_id(value, name) for value in checked) if number]


def parse_page(value: str | None) -> int:
    """A page number, forgiving on purpose: a page is a position, not a record, so a mangled
    one (``-3``, ``²``, ``x``) shows the first page and a huge one the last (the caller clamps
    to its page count)."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        return 1 if not (text.isascii() and text.isdigit()) else MAX_PAGE
    return max(1, min(int(text), MAX_PAGE))


def bounded_list(values: list[str], name: str, *, limit: int = MAX_IDS) -> list[str]:
    """A repeated text parameter, refused beyond ``limit`` values."""
    if len(values) > limit:
        raise BadParameter(
            f"Trop de valeurs pour le paramètre « {name} » : {len(values)}, au plus {limit}. "
            "Rien n'a été enregistré."
        )
    return values
