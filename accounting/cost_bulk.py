"""Recording many costs and subsidies at once (a FEC import of 100 000 lines): what
:func:`accounting.costs.add_cost` does for each — checked, refused in a closed or invoiced
period, account mapped, saved, posted by its nature, sealed — in multi-row inserts and a
constant number of queries per slice.

Why: ``add_cost`` one at a time costs about 22 ms a line (an ORM flush, the entry's number
under its lock, an audit row and a seal each), 70 times the reading of the file.

Invariants: the same costs, entries, numbers and lines as ``add_cost`` called in the same
order (tests compare the two paths); all or nothing (it only flushes: any refusal raises
before the caller commits); inserted a slice at a time, so memory stays bounded. Two things
differ, by design (issue 15: 200 000 audit rows and 100 000 seal rows were a third of a
1 000 000-line import): the caller audits the import as one event naming what was written
(:class:`Added`: counts and id ranges) instead of one « create » and one « post » event per
cost, and the entries are sealed in batch links (:mod:`accounting.seal_batch`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.bulk_rows import insert_rows, reserve_ids
from accounting.cost_counterparts import insert_counterparts
from accounting.cost_models import MODELS, CostError, CostInput, check_cost_input, posting_fields
from accounting.db import utcnow
from accounting.ledger.cost_posting import post_costs
from accounting.ledger.mapping import mapper
from accounting.org import Service
from accounting.periods import ensure_writable_days

#: Lines inserted, audited, posted and sealed together (what sits in memory at once).
SLICE = 5_000


@dataclass
class Added:
    """What :func:`add_costs` wrote: how many of each kind (``cost``, ``subsidy``), and the
    first and last id written per table (``costs``, ``subsidies``, ``journal_entries``), for
    the caller's audit event."""

    kinds: Counter[str] = field(default_factory=Counter)
    ids: dict[str, list[int]] = field(default_factory=dict)

    def wrote(self, table: str, ids: Sequence[int]) -> None:
        if ids:
            first, last = self.ids.get(table, [min(ids), max(ids)])
            self.ids[table] = [min(first, *ids), max(last, *ids)]


def add_costs(
    session: Session, items: Sequence[tuple[CostInput, str | None]], *,
    user_id: int | None = None, checked: bool = False,
) -> Added:  # fmt: skip
    """Record each ``(data, import_key)`` as :func:`accounting.costs.add_cost` would, in
    order; returns what was written (:class:`Added`). Raises ``CostError`` or the
    period's refusal before writing anything (flushes, never commits). ``checked``: the
    caller has put every item through ``check_cost_input`` already (the FEC import's
    planner does, 100 000 of them), so that is not done twice; the service is still looked
    up."""
    names = {service.id: service.name for service in session.scalars(select(Service))}
    for data, _ in items:
        problems = () if checked else check_cost_input(data)
        if problems:
            raise CostError(" ".join(message for _, message in problems))
        if data.service_id not in names:
            raise CostError("Service inconnu.")
    ensure_writable_days(session, (data.day for data, _ in items))
    added = Added()
    for start in range(0, len(items), SLICE):
        lines = _insert_slice(session, items[start : start + SLICE], user_id, added)
        added.wrote("journal_entries", post_costs(session, lines, names))
        added.kinds.update(line.kind.value for line in lines)
        # Released before the next slice is made, not when it replaces it: two slices alive
        # at once were 6 MB of a 1 000 000-line import's peak (issue 16).
        del lines
    return added


def _insert_slice(
    session: Session, items: Sequence[tuple[CostInput, str | None]], user_id: int | None,
    added: Added,
) -> list[Any]:  # fmt: skip
    """Insert the lines of one slice (per table, ids taken first); returns them as plain
    records, in order."""
    canonical = mapper(session)
    now = utcnow()
    # Each line's record is its row too (its ``__dict__``: the columns, plus ``kind`` and
    # ``counterparts`` the posting reads): one dict per line, not a row and then a copy.
    lines: list[SimpleNamespace] = []
    rows: list[dict[str, Any]] = []
    for data, import_key in items:
        line = SimpleNamespace(
            service_id=data.service_id, day=data.day, amount=data.amount,
            account=canonical(data.account), label=data.label.strip(),
            party=data.party.strip(), reference=data.reference.strip(),
            attachment_name=data.attachment_name.strip(), import_key=import_key,
            created_at=now, created_by_id=user_id, **posting_fields(data),
            kind=data.kind, counterparts=data.counterparts,
        )  # fmt: skip
        lines.append(line)
        rows.append(vars(line))
    for kind, model in MODELS.items():
        mine = [row for (data, _), row in zip(items, rows, strict=True) if data.kind is kind]
        if not mine:
            continue
        table = model.__table__
        for row, entry_id in zip(mine, reserve_ids(session, table, len(mine)), strict=True):
            row["id"] = entry_id
        names = [column.name for column in table.columns]
        insert_rows(session, table, names, list(map(itemgetter(*names), mine)))
        added.wrote(model.__tablename__, [row["id"] for row in mine])
    # The shares of the lines whose entry has several counterparts (one executemany, if any).
    insert_counterparts(session, ((data.kind.value, row["id"], data.counterparts)
                                  for (data, _), row in zip(items, rows, strict=True)))  # fmt: skip
    return lines
