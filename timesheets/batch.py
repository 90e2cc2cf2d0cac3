"""Many entries logged at once, all or nothing, each bad row named: the API's bulk create.

The rules are those of :mod:`timesheets.services` (each row goes through ``check_data`` and
the staff rule of ``create_entry``); the 24 h rule is checked over the batch and what is
already logged, in one query (``staff_day_minutes``), and names the row that goes over. Every
problem of every row is collected before anything is written (like the file import): a batch
with any error raises :class:`BatchRefused` and adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accounting.org import User
from accounting.wording import plural
from timesheets.errors import TimesheetError
from timesheets.models import EntryStatus, WorkEntry
from timesheets.services import (
    DAY_LIMIT_MINUTES,
    DAY_WARNING_MINUTES,
    EntryData,
    Saved,
    _apply,
    _fmt_day,
    _fmt_minutes,
    _staff_for,
    check_data,
    staff_day_minutes,
)

#: Most rows in one batch.
MAX_ROWS = 1000


@dataclass(frozen=True, slots=True)
class BatchRow:
    data: EntryData
    #: Whose work (None: the actor's own).
    staff_id: int | None = None


class BatchRefused(TimesheetError):
    """Some rows of a batch break a rule: ``errors`` lists (row number from 1, message)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = sorted(errors)
        super().__init__(
            f"{plural(len(self.errors), 'ligne refusée')} : rien n'a été enregistré.")


def create_entries(session: Session, actor: User, rows: Sequence[BatchRow]) -> Saved:
    """Log every row as a draft, or none (:class:`BatchRefused` with every row's problem)."""
    if not rows:
        raise BatchRefused([(0, "Aucune saisie à enregistrer.")])
    if len(rows) > MAX_ROWS:
        raise BatchRefused([(0, f"Au plus {MAX_ROWS} saisies par envoi.")])
    errors: list[tuple[int, str]] = []
    valid: list[tuple[int, User, EntryData]] = []
    for number, row in enumerate(rows, start=1):
        try:
            staff = _staff_for(session, actor, row.staff_id)
            check_data(session, actor, row.data)
        except TimesheetError as error:
            errors.append((number, str(error)))
        else:
            valid.append((number, staff, row.data))
    warnings = _day_totals(session, valid, errors)
    if errors:
        raise BatchRefused(errors)
    saved = Saved(warnings=warnings)
    for _number, staff, data in valid:
        entry = WorkEntry(staff_id=staff.id, created_by_id=actor.id, status=EntryStatus.DRAFT)
        _apply(entry, data, actor)
        session.add(entry)
        saved.entries.append(entry)
    session.flush()
    return saved


def _day_totals(
    session: Session, valid: list[tuple[int, User, EntryData]], errors: list[tuple[int, str]]
) -> list[str]:
    """The 24 h rule over the batch and what is logged already: each row that goes over is an
    error; a day above 12 h a warning."""
    existing = staff_day_minutes(session, {(staff.id, data.day) for _, staff, data in valid})
    running: dict[tuple[int, object], int] = defaultdict(int)
    warned: set[tuple[int, object]] = set()
    warnings: list[str] = []
    for number, staff, data in valid:
        key = (staff.id, data.day)
        running[key] += data.minutes
        total = existing.get(key, 0) + running[key]
        if total > DAY_LIMIT_MINUTES:
            errors.append((number, f"Plus de 24 h saisies le {_fmt_day(data.day)} pour "
                                   f"{staff.name} ({_fmt_minutes(total)} au total) : refusé."))
        elif total > DAY_WARNING_MINUTES and key not in warned and data.minutes:
            warned.add(key)
            warnings.append(f"Attention : plus de 12 h saisies le {_fmt_day(data.day)} pour "
                            f"{staff.name}.")
    return warnings
