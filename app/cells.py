"""Cells and links of the long tables, built in Python (issue 16).

A page of 1 000 rows spends most of its time in Jinja's per-cell machinery, not in the
database: a macro call costs about 20 µs and an ``url_for`` 15 µs, so 1 000 members ×
four figures, or 1 000 members × two amounts, made the figures page and the key editor
0.1–0.2 s. The helpers here write the same HTML as the macros they stand for
(``money_cell``, ``figure_cell``) — the values escaped the same way — and route a link once
per page rather than once per row. Templates call them as globals (registered by
``app.formatting.init_app``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from flask import url_for
from markupsafe import Markup

from app.formatting import money, number

#: What a page routes in place of a row's value (then replaced): digits, so any converter
#: (``int``, ``string``) accepts it, and long enough never to be part of a real URL.
_MARK = 918273645

#: Formats of the member figures (``imports.figures.FIGURE_FIELDS``); the others are counts.
_FIGURE_FORMATS: dict[str, Callable[[Any], str]] = {
    "revenue": money,
    "headcount": lambda value: number(value, 1),
}
_MISSING = '<td class="num"><span class="badge warn">manquant</span></td>'


def money_td(value: Decimal | int | None) -> Markup:
    """The ``money_cell`` macro's cell: ``<td class="num[ neg]" data-value="…">12,50 €</td>``,
    ``—`` for None. Each distinct value is written once per process (its text and its
    ``data-value`` depend on the value's digits only)."""
    if value is None:
        return Markup('<td class="num">—</td>')
    return _money_td(value, str(value))


@lru_cache(maxsize=16384)
def _money_td(value: Decimal | int, text: str) -> Markup:
    # ``text`` is in the key: Decimal("1.0") == Decimal("1.00"), their data-value is not.
    css = "num neg" if value < 0 else "num"
    return Markup(f'<td class="{css}" data-value="{escaped(text)}">{escaped(money(value))}</td>')


def amount_rows(rows: Iterable[tuple[Any, Sequence[Decimal | None]]]) -> Markup:
    """Members' amounts side by side (the key editor's and the comparison's tables): the
    member's code and name, its amount under each candidate, then the difference of each
    later candidate with the first (None: a candidate that leaves it out). ``rows``:
    ``KeyComparison.rows()``; 1 000 members × three cells of Jinja were most of the page."""
    out = []
    for ref, amounts in rows:
        first = amounts[0] if amounts else None
        cells = "".join([str(money_td(a)) for a in amounts])
        gaps = "".join([str(money_td(a - first if a is not None and first is not None else None))
                        for a in amounts[1:]])
        out.append(f'    <tr><th scope="row"><span class="code">{escaped(ref.code)}</span> '
                   f'{escaped(ref.name)}</th>{cells}\n      {gaps}</tr>\n')
    return Markup("".join(out))


def figure_td(field: str, value: Decimal | int | None) -> Markup:
    """A member figure's cell (the ``figure_cell`` macro): « manquant » when it is not known
    (never a zero), an amount for the revenue, one decimal for the headcount."""
    return Markup(_figure_td(field, value))


def _figure_td(field: str, value: Decimal | int | None) -> str:
    if value is None:
        return _MISSING
    return f'<td class="num">{escaped(_FIGURE_FORMATS.get(field, str)(value))}</td>'


def figure_tds(fields: Sequence[str], values: Sequence[Decimal | int | None]) -> Markup:
    """A row of figure cells, ``values`` in the order of ``fields``."""
    return Markup("".join([_figure_td(f, v) for f, v in zip(fields, values, strict=True)]))


def figure_rows(rows: Iterable[Any], fields: Sequence[str],
                member_url: Callable[[int], str] | None = None) -> Markup:
    """The figures page's table rows: each member's code (a link to its figures when
    ``member_url`` is given), name and figures. ``rows``: ``member_id``, ``code``, ``name``,
    ``values`` (``app.admin.services.FiguresRow``). One row of Jinja per member was most of
    the page at 1 000 members."""
    out = []
    for row in rows:
        code = escaped(row.code)
        if member_url is not None:
            code = f'<a href="{escaped(member_url(row.member_id))}#saisie">{code}</a>'
        cells = "".join([_figure_td(f, v) for f, v in zip(fields, row.values, strict=True)])
        out.append(f'    <tr>\n      <td>{code} <span class="muted">{escaped(row.name)}</span>'
                   f'</td>\n      {cells}\n    </tr>\n')
    return Markup("".join(out))


def escaped(value: Any) -> str:
    """``value`` as text escaped as Jinja's autoescape (markupsafe) does, but a plain ``str``
    to put in a larger one: a ``Markup`` made per value cost a microsecond, 7 000 times on
    the figures page."""
    return (str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def url_pattern(endpoint: str, argument: str, **values: Any) -> Callable[[Any], str]:
    """``url_for(endpoint, **{argument: x}, **values)`` as a function of ``x``, routed once:
    the URL is built with a mark in place of ``x``, which each call replaces, percent-encoded
    (the same text as ``url_for``'s for ids and for codes of letters, digits, ``-``, ``_``
    and ``.``; other characters may be encoded where Werkzeug leaves them, read back the
    same by the router)."""
    routed = url_for(endpoint, **{argument: _MARK}, **values)
    before, mark, after = routed.partition(str(_MARK))
    if not mark or str(_MARK) in after:
        raise ValueError(f"{endpoint}: {argument} is not a path or query value of the URL")

    def url(value: Any) -> str:
        return f"{before}{quote(str(value), safe='')}{after}"

    return url
