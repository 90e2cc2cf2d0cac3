"""The table cells written in Python for the long pages (app/cells.py) against the HTML the
templates wrote, by hand and through the Jinja macros they stand for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask, render_template_string, url_for
from markupsafe import escape

from app.cells import amount_rows, escaped, figure_td, figure_tds, money_td, url_pattern

NNBSP, NBSP = "\u202f", "\xa0"


def test_money_td_writes_the_amount_its_sign_and_its_digits() -> None:
    for _ in range(2):  # the second answers come from the memo: the same
        assert money_td(Decimal("1234.50")) == (
            f'<td class="num" data-value="1234.50">1{NNBSP}234,50{NBSP}€</td>')
        assert money_td(Decimal("-12.5")) == (
            f'<td class="num neg" data-value="-12.5">-12,50{NBSP}€</td>')
        # A negative zero is not negative and shows « 0,00 € »; its data-value keeps its
        # sign, as the macro's ``{{ value }}`` did.
        assert money_td(Decimal("-0.00")) == (
            f'<td class="num" data-value="-0.00">0,00{NBSP}€</td>')
        assert money_td(0) == f'<td class="num" data-value="0">0,00{NBSP}€</td>'
        assert money_td(None) == '<td class="num">—</td>'


def test_equal_amounts_written_with_other_digits_keep_their_own_data_value() -> None:
    """Decimal("1.0") == Decimal("1.00"): the memo must not answer one with the other's."""
    assert 'data-value="1.00"' in money_td(Decimal("1.00"))
    assert 'data-value="1.0"' in money_td(Decimal("1.0"))


@pytest.mark.parametrize(
    "value", [Decimal("98765.43"), Decimal("-0.01"), Decimal("-0.00"), Decimal("5"), 12, None]
)
def test_money_td_is_what_the_money_cell_macro_wrote(app: Flask, value) -> None:
    with app.test_request_context():
        macro = render_template_string(
            '{% from "_macros.html" import money_cell %}{{ money_cell(value) }}', value=value)
    assert money_td(value) == macro.strip()


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("revenue", Decimal("170000.50"), f"170{NNBSP}000,50{NBSP}€"),
        ("headcount", Decimal("6.500"), "6,5"),
        ("insertion_workers", 3, "3"),
        ("volunteers", 0, "0"),  # a zero is a figure, not a missing one
    ],
)
def test_a_known_figure_is_shown_in_its_format(field, value, shown) -> None:
    assert figure_td(field, value) == f'<td class="num">{shown}</td>'


def test_a_missing_figure_says_so_never_a_zero() -> None:
    html = '<td class="num"><span class="badge warn">manquant</span></td>'
    assert figure_td("revenue", None) == html
    assert figure_tds(("headcount", "volunteers"), (None, 4)) == html + '<td class="num">4</td>'


def test_a_url_routed_once_is_the_url_for_of_each_value(app: Flask) -> None:
    with app.test_request_context():
        figures = url_pattern("admin.member_figures", "member_id", annee=2025)
        explain = url_pattern("allocation.explain_preview", "member_code",
                              period_code="2025-T3", service_code="COMPTA")
        for member_id in (1, 42, 1000):
            assert figures(member_id) == url_for("admin.member_figures", member_id=member_id,
                                                 annee=2025)
        for code in ("M0001", "SCOP-VAL"):
            assert explain(code) == url_for("allocation.explain_preview", period_code="2025-T3",
                                            service_code="COMPTA", member_code=code)


def test_a_query_value_is_routed_once_too(app: Flask) -> None:
    with app.test_request_context():
        year = url_pattern("admin.figures", "annee")
        assert year(2024) == url_for("admin.figures", annee=2024)


@pytest.mark.parametrize(
    "value", ["L'Atelier <Bio> & « Cie »", 'a "b"', "", "plain", 12, Decimal("-1.50"), "&amp;"])
def test_escaped_is_what_jinjas_autoescape_writes(value) -> None:
    assert escaped(value) == str(escape(value))


def test_amount_rows_show_each_candidate_then_its_difference_with_the_first() -> None:
    class Ref:
        code, name = "M01", "L'Atelier"

    html = str(amount_rows([(Ref, [Decimal("10.00"), Decimal("12.50"), None])]))
    assert html.startswith('    <tr><th scope="row"><span class="code">M01</span> '
                           "L&#39;Atelier</th>")
    cells = html.split("</th>", 1)[1]
    assert cells.count("<td") == 5  # three candidates, two differences
    assert 'data-value="2.50">2,50' in cells  # 12,50 − 10,00
    assert cells.count('<td class="num">—</td>') == 2  # refused, and its difference
