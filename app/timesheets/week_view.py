"""What the week grid page shows: its rows as posted or stored, each cell's value, lock,
reviewer's comment and error, read from a posted form and from the stored week.

Design: the grid is the user's work in progress. A refused save, an added row (without
JavaScript) or a removed row re-renders every posted row, in the order posted, with every
value as typed (``typed``), so nothing typed is ever lost; stored rows the form did not post
follow. Errors are shown by row under the row (a full-width line) and in a summary above the
grid, never inside a day's cell, so the columns keep their width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Service
from app.cells import escaped
from app.formatting import date_fr
from app.params import bounded_list
from imports.errors import InvalidValue
from imports.parsing import format_minutes, parse_duration
from timesheets.errors import TimesheetError
from timesheets.listing import member_labels
from timesheets.models import Activity
from timesheets.week import DAYS_FR, Cell, RowKey, Week


@dataclass
class PostedGrid:
    """The rows of a posted grid: ``ligne`` (encoded keys, in order) with their ``c-<key>-<day>``
    cells, and ``retirer`` (rows removed: their entries are deleted by the save)."""

    keys: list[RowKey] = field(default_factory=list)
    typed: dict[str, list[str]] = field(default_factory=dict)
    minutes: dict[str, list[int | None]] = field(default_factory=dict)
    removed: list[RowKey] = field(default_factory=list)
    #: (encoded key, day) -> message, for the unreadable durations.
    errors: dict[tuple[str, int | None], str] = field(default_factory=dict)

    def rows(self) -> list[tuple[RowKey, list[int | None]]]:
        """What :func:`timesheets.week.save_week` takes: the kept rows, then the removed ones
        (emptied)."""
        kept = [(key, self.minutes[key.encode()]) for key in self.keys]
        return kept + [(key, [None] * 7) for key in self.removed]

    def row_text(self, index: int) -> str:
        """The encoded key of the ``index``-th row of :meth:`rows`."""
        keys = self.keys + self.removed
        return keys[index].encode() if 0 <= index < len(keys) else ""


def _decode_all(values: list[str]) -> list[RowKey]:
    keys: list[RowKey] = []
    for text in values:
        try:
            key = RowKey.decode(text)
        except TimesheetError:
            continue
        if key not in keys:
            keys.append(key)
    return keys


def read_posted(form: Any, removing: str | None = None) -> PostedGrid:
    """The grid as posted; ``removing``: a row removed by its « Retirer » button."""
    grid = PostedGrid(removed=_decode_all(bounded_list(form.getlist("retirer"), "retirer")))
    for key in _decode_all(bounded_list(form.getlist("ligne"), "ligne")):
        if key in grid.removed:
            continue
        text = key.encode()
        raw = [form.get(f"c-{text}-{day}", "").strip()[:20] for day in range(7)]
        values: list[int | None] = []
        for day, cell in enumerate(raw):
            try:
                values.append(parse_duration(cell) if cell else None)
            except InvalidValue as error:
                grid.errors[(text, day)] = error.message
                values.append(None)
        if text == removing:
            grid.removed.append(key)
            continue
        grid.keys.append(key)
        grid.typed[text] = raw
        grid.minutes[text] = values
    return grid


@dataclass
class CellView:
    value: str
    locked: bool = False
    comment: str = ""
    error: str = ""


@dataclass
class RowView:
    key: RowKey
    member: str
    service_code: str
    service_name: str
    activity: str
    cells: list[CellView]
    #: Messages of the row (refused cells named by their day, and the row's own problems).
    errors: list[str] = field(default_factory=list)
    #: Some of its entries are stored.
    stored: bool = False

    @cached_property
    def enc(self) -> str:
        return self.key.encode()

    @cached_property
    def css(self) -> str:
        """The row's class for its total (``data-sum``): the key without colons."""
        return "row-" + self.enc.replace(":", "-")

    @property
    def removable(self) -> bool:
        """No read-only cell holds time (removing the row deletes its draft entries)."""
        return not any(cell.locked and cell.value for cell in self.cells)

    @property
    def comments(self) -> list[tuple[int, str]]:
        return [(day, cell.comment) for day, cell in enumerate(self.cells) if cell.comment]


@dataclass
class Labels:
    """Names of the services, activities and members the rows show."""

    services: dict[int, tuple[str, str]]
    activities: dict[int, str]
    members: dict[int, str]

    @classmethod
    def load(cls, session: Session, keys: list[RowKey]) -> Labels:
        return cls(
            services={
                sid: (code, name)
                for sid, code, name in session.execute(
                    select(Service.id, Service.code, Service.name)
                )
            },
            activities={
                aid: name
                for aid, name in session.execute(
                    select(Activity.id, Activity.name).where(
                        Activity.id.in_({k.activity_id for k in keys if k.activity_id})
                    )
                )
            },
            members=member_labels(session, [key.member_id for key in keys]),
        )


def row_view(
    key: RowKey, labels: Labels, stored: list[Cell] | None, typed: list[str] | None,
    errors: dict[tuple[str, int | None], str],
) -> RowView:
    """One row: the typed values when there are, else the stored minutes."""
    text = key.encode()
    code, name = labels.services.get(key.service_id, (str(key.service_id), ""))
    cells: list[CellView] = []
    for day in range(7):
        cell = stored[day] if stored else Cell()
        shown = typed[day] if typed is not None else (
            format_minutes(cell.minutes) if cell.minutes else ""
        )
        cells.append(CellView(shown, cell.locked, cell.comment, errors.get((text, day), "")))
    messages = [
        f"{DAYS_FR[day]} : {cell.error}" for day, cell in enumerate(cells) if cell.error
    ]
    if (text, None) in errors:
        messages.append(errors[(text, None)])
    return RowView(
        key=key,
        member=labels.members.get(key.member_id, str(key.member_id))
        if key.member_id
        else "Travail commun",
        service_code=code,
        service_name=name,
        activity=labels.activities.get(key.activity_id, "—") if key.activity_id else "—",
        cells=cells,
        errors=messages,
        stored=bool(stored) and any(c.entry_ids for c in stored),
    )


def grid_rows(
    session: Session, week: Week, posted: PostedGrid | None, extra: list[RowKey],
    errors: dict[tuple[str, int | None], str],
) -> list[RowView]:
    """Rows of the page: the posted ones in their order (values as typed), then the stored
    rows not posted, then ``extra`` (rows added, copied from last week)."""
    stored = {row.key: row.cells for row in week.rows}
    keys: list[RowKey] = list(posted.keys) if posted else []
    shown = set(keys)  # a list's ``in`` made this quadratic: 230 rows, 27 000 comparisons
    removed = set(posted.removed) if posted else set()
    for key in [row.key for row in week.rows] + extra:
        if key not in shown and (key not in removed or any(k[0] == key.encode() for k in errors)):
            keys.append(key)
            shown.add(key)
    labels = Labels.load(session, keys)
    typed = posted.typed if posted else {}
    return [
        row_view(key, labels, stored.get(key), typed.get(key.encode()), errors) for key in keys
    ]


_LOCKED = ' readonly title="En lecture seule (soumise, validée, clôturée ou plusieurs saisies)"'


@lru_cache(maxsize=64)
def _day_labels(days: tuple[date, ...]) -> tuple[str, ...]:
    return tuple(f"{DAYS_FR[index]} {date_fr(day)}" for index, day in enumerate(days))


def day_cells(row: RowView, days: Sequence[date]) -> Markup:
    """The seven day cells of a row (``_week_row.html``), each value and message escaped.

    Why in Python: a grid holds a row per member worked for — 230 rows for an accountant's
    week at 1 000 members, 1 600 inputs — and Jinja's loop, tests and filters per cell were
    most of the page's 0.1 s; written here, with each day's label made once, they cost a
    tenth of that. The HTML is what the template wrote."""
    labels = _day_labels(tuple(days))
    enc, css = escaped(row.enc), escaped(row.css)
    what = f"{escaped(row.member)}, {escaped(row.service_code)}"
    if row.activity != "—":
        what += f", {escaped(row.activity)}"
    note = escaped("note-" + row.css)
    out = []
    for index, cell in enumerate(row.cells):
        classes = "num"
        attributes = _LOCKED if cell.locked else ""
        if cell.comment:
            classes += " sent-back"
            attributes += f' title="Renvoyée : {escaped(cell.comment)}"'
        if cell.error:
            classes += " cell-error"
            attributes += f' aria-invalid="true" title="{escaped(cell.error)}"'
        if cell.error or cell.comment:
            attributes += f' aria-describedby="{note}"'
        mark = '<span class="mark" aria-hidden="true">↩</span>' if cell.comment else ""
        value = escaped(cell.value) if cell.value else ""
        out.append(
            f'  <td class="{classes}">\n    <input type="text" inputmode="decimal" size="5" '
            f'maxlength="20" name="c-{enc}-{index}" value="{value}" '
            f'class="cell col-{index} {css}" autocomplete="off"\n      '
            f'aria-label="{what} — {labels[index]}"{attributes}>{mark}\n  </td>\n'
        )
    return Markup("".join(out))
