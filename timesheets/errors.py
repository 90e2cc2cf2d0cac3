"""Errors of the timesheets domain, one base class, French messages (they reach the UI as is)."""

from __future__ import annotations


class TimesheetError(Exception):
    """Base of every refusal of the timesheets services."""

    @property
    def message(self) -> str:
        return str(self)


class EntryNotFound(TimesheetError):
    """The entry does not exist, or is outside the user's scope (the same answer: no leak)."""

    def __init__(self) -> None:
        super().__init__("Saisie introuvable.")


class NotAllowed(TimesheetError):
    """The user's role or member scope does not allow this."""


class InvalidEntry(TimesheetError):
    """The entry's data breaks a rule (duration, reference, member's dates...)."""


class DayOverLimit(InvalidEntry):
    """More than 24 h logged by one person on one day."""


class MemberInactive(InvalidEntry):
    """The member had not joined yet, or had left, at the date of the work."""


class EntryLocked(TimesheetError):
    """A submitted or approved entry changes only after being sent back."""


class EntryInClosedPeriod(TimesheetError):
    """The date lies in a closed period: read-only for everyone."""
