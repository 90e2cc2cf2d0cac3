"""The units entry: one person's quantities per (member, unit type) for one service and day.

Design: like the week grid, the page shows what is stored and saving turns the differences
into creations, updates and deletions (a quantity typed again is not stored twice). A cell
backed by several entries, or by an entry that is no longer a draft, is read-only here (the
list edits those). All or nothing: any refused cell leaves everything unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import User
from timesheets import services
from timesheets.errors import InvalidEntry, TimesheetError
from timesheets.models import EntryStatus, WorkEntry
from timesheets.services import EntryData

#: (member id, unit type id).
UnitKey = tuple[int, int]


@dataclass(slots=True)
class UnitCell:
    quantity: Decimal = Decimal(0)
    entry_ids: list[int] = field(default_factory=list)
    locked: bool = False


def load_units(
    session: Session, staff_id: int, service_id: int, day: date
) -> dict[UnitKey, UnitCell]:
    """The stored quantities of ``staff_id`` for the service and day, by (member, unit)."""
    rows = session.execute(
        select(
            WorkEntry.id, WorkEntry.member_id, WorkEntry.unit_type_id, WorkEntry.quantity,
            WorkEntry.status,
        ).where(
            WorkEntry.staff_id == staff_id,
            WorkEntry.service_id == service_id,
            WorkEntry.day == day,
            WorkEntry.unit_type_id.is_not(None),
            WorkEntry.member_id.is_not(None),
        )
    ).all()
    cells: dict[UnitKey, UnitCell] = {}
    for entry_id, member_id, unit_id, quantity, status in rows:
        cell = cells.setdefault((member_id, unit_id), UnitCell())
        cell.quantity += quantity
        cell.entry_ids.append(entry_id)
        cell.locked = cell.locked or status != EntryStatus.DRAFT or len(cell.entry_ids) > 1
    return cells


def save_units(
    session: Session, actor: User, service_id: int, day: date,
    wanted: dict[UnitKey, Decimal | None], note: str = "",
) -> int:
    """Store the quantities ``wanted`` (None: empty) of the actor; returns how many cells
    changed. Raises :class:`UnitsRefused` with the message of every refused cell (the caller
    rolls back: nothing is kept)."""
    stored = load_units(session, actor.id, service_id, day)
    errors: dict[UnitKey, str] = {}
    changed = 0
    for key, quantity in wanted.items():
        cell = stored.get(key, UnitCell())
        if (quantity or Decimal(0)) == cell.quantity:
            continue
        try:
            if cell.locked:
                raise InvalidEntry(
                    "Quantité en lecture seule (soumise, validée ou plusieurs saisies) : "
                    "modifiez-la depuis la liste."
                )
            data = EntryData(
                day=day, service_id=service_id, minutes=0, member_id=key[0],
                unit_type_id=key[1], quantity=quantity, note=note,
            )
            if not cell.entry_ids:
                services.create_entry(session, actor, data)
            elif quantity:
                entry = session.get(WorkEntry, cell.entry_ids[0])
                data = replace(data, note=note or (entry.note if entry else ""))
                services.update_entry(session, actor, cell.entry_ids[0], data)
            else:
                services.delete_entry(session, actor, cell.entry_ids[0])
            changed += 1
        except TimesheetError as error:
            errors[key] = str(error)
    if errors:
        raise UnitsRefused(errors)
    return changed


class UnitsRefused(InvalidEntry):
    """Nothing was saved; ``errors`` gives the message of each refused cell."""

    def __init__(self, errors: dict[UnitKey, str]) -> None:
        self.errors = errors
        super().__init__(" ; ".join(errors.values()))
