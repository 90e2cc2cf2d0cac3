"""Cursor pagination of the API's lists: a page is the rows after the last one seen, in a fixed
order (no OFFSET: page 500 costs what page 1 costs, and a row added meanwhile is neither lost
nor repeated). The cursor is opaque to clients: the sort key of the last row, base64url."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.api.problems import ApiProblem
from app.api.schemas import decode_cursor, encode_cursor


def cursor_values(text: str, kinds: tuple[type, ...] = (int,)) -> list[Any]:
    try:
        return decode_cursor(text, kinds)
    except ValueError:
        raise ApiProblem(
            400, "Curseur invalide : reprenez la valeur next_cursor de la page précédente."
        ) from None


def page(rows: list[Any], limit: int, key: Callable[[Any], list[Any]]) -> dict[str, Any]:
    """``rows`` fetched with ``limit + 1``: the page and the cursor of the next one."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(key(rows[-1])) if more else None}
