"""The refusals of the allocation package, all under one base, ``AllocationError``.

Each error carries a French message that reaches the UI and the CLI as it is, and the data it
names (member codes, figures, positions) so callers can render it their own way. The engine never
lets a ``ZeroDivisionError`` or a silent zero through: a key that cannot be computed is refused
with one of these.
"""

from __future__ import annotations

from collections.abc import Iterable


class AllocationError(Exception):
    """Base of every refusal of the allocation package; ``str()`` is the French message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeySyntaxError(AllocationError):
    """The text of a key does not follow the grammar; ``position`` is the 0-based index of the
    offending character, and ``str()`` shows the text with a caret under it."""

    def __init__(self, message_fr: str, position: int, text: str = "") -> None:
        self.message_fr = message_fr
        self.position = position
        self.text = text
        super().__init__(message_fr)

    @property
    def column(self) -> int:
        """1-based column, as people count."""
        return self.position + 1

    def __str__(self) -> str:
        if not self.text:
            return f"{self.message_fr} (caractère {self.column})"
        caret = " " * self.position + "^"
        return f"{self.message_fr} (caractère {self.column})\n  {self.text}\n  {caret}"


class InvalidKey(AllocationError):
    """A key built in code (not parsed) breaks a rule of the grammar, e.g. weights not adding
    up to 100 %."""


class InvalidFixedPercentages(AllocationError):
    """The percentages of a ``fixed(...)`` basis do not fit the members: an active member has
    none, a code is unknown, or they do not add up to 100 %."""

    def __init__(self, message: str, codes: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.codes = tuple(codes)


class MissingFigures(AllocationError):
    """A member's revenue or headcount for the fiscal year is needed by the key but missing."""

    def __init__(self, missing: Iterable[tuple[str, str]], year: int | None = None) -> None:
        #: (member code, figure name in French) pairs, sorted by code then figure
        self.missing = tuple(sorted(set(missing)))
        self.year = year
        by_figure: dict[str, list[str]] = {}
        for code, figure in self.missing:
            by_figure.setdefault(figure, []).append(code)
        year_txt = f" {year}" if year is not None else ""
        lines = [
            f"{figure}{year_txt} manquant pour : {', '.join(codes)}"
            for figure, codes in sorted(by_figure.items())
        ]
        super().__init__(
            "Répartition impossible, chiffres de l'adhérent manquants. "
            + " ; ".join(lines)
            + ". Saisissez-les dans les chiffres des adhérents ou changez la clé."
        )

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted({code for code, _ in self.missing}))


class NoBasis(AllocationError):
    """The key has nothing to share by: no active member, or a basis whose total is zero while
    there is money to allocate."""

    def __init__(self, message: str, basis: str | None = None) -> None:
        super().__init__(message)
        self.basis = basis


class InvalidFigure(AllocationError):
    """An input figure is impossible (negative minutes, more active days than the period, a
    duplicated member code, work logged for a member who is not active...)."""

    def __init__(self, message: str, codes: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.codes = tuple(codes)


class InvalidPool(AllocationError):
    """The pool is not an amount in whole cents."""


class NoKey(AllocationError):
    """No key is in force for a service over the whole period."""


class RunError(AllocationError):
    """A run cannot be stored, approved or deleted (closed period, already approved,
    overlapping approved run, data changed since it was computed...)."""
