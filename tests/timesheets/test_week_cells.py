"""The day cells of a week grid row (``app.timesheets.week_view.day_cells``), written in Python
since issue 16: each input's name, value, label and state as the row template wrote them, the
values escaped; and the grid's rows kept in order, once each, however many they are."""

from __future__ import annotations

from datetime import date, timedelta

from app.timesheets.week_view import CellView, PostedGrid, RowView, day_cells, grid_rows
from timesheets.week import Cell, GridRow, RowKey, Week

MONDAY = date(2025, 11, 17)
DAYS = [MONDAY + timedelta(days=n) for n in range(7)]


def _row(cells: list[CellView], activity: str = "—") -> RowView:
    return RowView(RowKey(3, 12, 7 if activity != "—" else None), "M0012 — L'Atelier <Bio>",
                   "COMPTA", "Comptabilité", activity, cells)


def _cells(html: str) -> list[str]:
    return [part.split("</td>")[0] for part in html.split("<td ")[1:]]


def test_an_open_cell_is_an_input_named_after_its_row_and_day_labelled_for_readers() -> None:
    html = day_cells(_row([CellView("1:30")] + [CellView("")] * 6), DAYS)
    first, *others = _cells(html)
    assert first == (
        'class="num">\n    <input type="text" inputmode="decimal" size="5" maxlength="20" '
        'name="c-3:12:-0" value="1:30" class="cell col-0 row-3-12-" autocomplete="off"\n      '
        'aria-label="M0012 — L&#39;Atelier &lt;Bio&gt;, COMPTA — Lundi 17/11/2025">\n  ')
    assert len(others) == 6
    assert 'name="c-3:12:-6" value=""' in others[-1]
    assert "Dimanche 23/11/2025" in others[-1]


def test_locked_sent_back_and_refused_cells_say_why() -> None:
    cells = [CellView("2:00", locked=True), CellView("0:45", comment="Mauvais adhérent"),
             CellView("9x", error="Durée illisible « 9x »")] + [CellView("")] * 4
    locked, sent_back, refused, *_ = _cells(day_cells(_row(cells, "Bilan"), DAYS))
    assert locked.startswith('class="num">')
    assert ('readonly title="En lecture seule (soumise, validée, clôturée ou plusieurs '
            'saisies)">') in locked
    assert "aria-label=\"M0012 — L&#39;Atelier &lt;Bio&gt;, COMPTA, Bilan — Lundi" in locked
    assert sent_back.startswith('class="num sent-back">')
    assert ('title="Renvoyée : Mauvais adhérent" aria-describedby="note-row-3-12-7">'
            '<span class="mark" aria-hidden="true">↩</span>') in sent_back
    assert refused.startswith('class="num cell-error">')
    assert ('value="9x"' in refused and 'aria-invalid="true" title="Durée illisible « 9x »" '
            'aria-describedby="note-row-3-12-7">') in refused


def test_a_long_grid_keeps_each_row_once_posted_rows_first(db) -> None:
    """300 stored rows (a few posted again, in another order) and an extra row already shown:
    the page lists the posted rows as posted, then the others in stored order, none twice."""
    keys = [RowKey(1, member, None) for member in range(1, 301)]
    week = Week(staff_id=1, monday=MONDAY, day_totals=[300 * 60] + [0] * 6, closed=[False] * 7,
                rows=[GridRow(key, [Cell(minutes=60)] + [Cell() for _ in range(6)])
                      for key in keys])
    posted = PostedGrid(keys=[keys[5], keys[2]], typed={k.encode(): [""] * 7
                                                         for k in (keys[5], keys[2])})
    rows = grid_rows(db, week, posted, [keys[7]], {})
    assert [r.key for r in rows] == [keys[5], keys[2]] + [k for k in keys if k not in
                                                          (keys[5], keys[2])]
