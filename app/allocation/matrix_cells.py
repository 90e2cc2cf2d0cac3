"""The body of an allocation's matrix (a run's page and the preview), written in Python.

Why: a page is 50 members × ~19 services, each cell an amount linked to its explanation;
Jinja's per-cell expressions, escaping and ``money_cell`` macro were about half of
``/repartition/<run>`` at 1 000 members (issue 16; ``app/cells.py`` says why). The HTML is
the template's, values escaped the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from markupsafe import Markup

from app.cells import escaped, money_td
from app.formatting import money


def matrix_rows(rows: Iterable[dict[str, Any]], services: Sequence[Any],
                cell_url: Callable[[str, str], str]) -> Markup:
    """The matrix's ``<tr>`` rows: each member's code and name, its amount per service (a
    link to the cell's explanation; « — » where it has none), then its total. ``rows``:
    dicts of ``code``, ``name``, ``amounts`` (service code → amount), ``total``; ``services``: the
    matrix's columns (``item.service.code`` / ``.name``)."""
    columns = [(s.service.code, escaped(s.service.name)) for s in services]
    out = []
    for row in rows:
        code = escaped(row["code"])
        cells = []
        for service_code, service_name in columns:
            amount = row["amounts"].get(service_code)
            if amount is None:
                cells.append('\n        <td class="num">—</td>')
                continue
            css = "num neg" if amount < 0 else "num"
            href = escaped(cell_url(service_code, row["code"]))
            cells.append(
                f'\n        <td class="{css}" data-value="{escaped(amount)}"><a href="{href}" '
                f'title="Détail : {service_name}, {code}">{escaped(money(amount))}</a></td>'
            )
        out.append(
            f'    <tr><th scope="row"><span class="code">{code}</span> {escaped(row["name"])}</th>'
            f'{"".join(cells)}\n      \n  {money_td(row["total"])}</tr>\n'
        )
    return Markup("".join(out))
