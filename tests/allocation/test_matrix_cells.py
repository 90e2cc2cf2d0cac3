"""The matrix body written in Python (app/allocation/matrix_cells.py) says what the template
said: each amount linked to its explanation, a negative one marked, a missing one « — », the
member's total last, names escaped."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from app.allocation.matrix_cells import matrix_rows


def _service(code: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(service=SimpleNamespace(code=code, name=name))


def test_a_row_links_each_amount_marks_negatives_and_escapes_names() -> None:
    rows = [{"code": "A&B", "name": "Scop <du> Val", "total": Decimal("-2.50"),
             "amounts": {"COMPTA": Decimal("10.00"), "DEV": Decimal("-12.50")}}]
    services = [_service("COMPTA", "Compta & paie"), _service("DEV", "Dév"), _service("X", "X")]
    html = str(matrix_rows(rows, services, lambda s, m: f"/r/1/{s}/{m}?a=1&b=2"))
    assert '<span class="code">A&amp;B</span> Scop &lt;du&gt; Val</th>' in html
    assert ('<td class="num" data-value="10.00"><a href="/r/1/COMPTA/A&amp;B?a=1&amp;b=2" '
            'title="Détail : Compta &amp; paie, A&amp;B">10,00\xa0€</a></td>') in html
    assert '<td class="num neg" data-value="-12.50"><a href="/r/1/DEV/' in html
    assert '<td class="num">—</td>' in html  # no amount for X
    assert html.rstrip().endswith('<td class="num neg" data-value="-2.50">-2,50\xa0€</td></tr>')
