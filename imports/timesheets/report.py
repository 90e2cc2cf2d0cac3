"""What a timesheet import found or did: the valid lines, the unmapped names, the report."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from accounting.wording import plural
from imports.errors import RowError
from timesheets.models import MappingKind

#: Joins a Kimai project and activity in a mapping's external name.
ACTIVITY_SEPARATOR = "\x1f"

#: Labels of an unmapped name's kind: what it is, and what it must be associated with.
KIND_LABELS = {
    MappingKind.CUSTOMER: ("Client Kimai", "un adhérent ou au travail commun"),
    MappingKind.PROJECT: ("Projet Kimai", "un service"),
    MappingKind.ACTIVITY: ("Activité Kimai", "une activité du service"),
    MappingKind.USER: ("Utilisateur Kimai", "un intervenant"),
}


@dataclass(slots=True)
class Candidate:
    """One valid line, references resolved, ready to insert."""

    line: int
    day: date
    staff_id: int
    member_id: int | None
    service_id: int
    activity_id: int | None
    unit_type_id: int | None
    quantity: Decimal | None
    minutes: int
    note: str
    import_key: str = ""
    #: Already in the database (same fingerprint): skipped.
    already: bool = False


@dataclass(slots=True)
class Unmapped:
    """A Kimai name with no mapping yet, and the lines where it appears."""

    kind: MappingKind
    external: str
    lines: list[int]

    @property
    def shown(self) -> str:
        return self.external.replace(ACTIVITY_SEPARATOR, " › ")

    @property
    def token(self) -> str:
        """A short stable id for a form field."""
        return hashlib.sha256(f"{self.kind}|{self.external}".encode()).hexdigest()[:16]


@dataclass(slots=True)
class ImportReport:
    """What an import found (preview) or did."""

    filename: str
    format: str = "template"
    #: The format's name for users (set from the format module that read the file).
    format_label: str = "modèle Mutualise"
    rows: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    #: Set once written.
    added: int = 0
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def new(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.already]

    @property
    def already(self) -> int:
        return sum(1 for c in self.candidates if c.already)

    @property
    def new_minutes(self) -> int:
        return sum(c.minutes for c in self.candidates if not c.already)

    def summary(self) -> str:
        """One French sentence for the user."""
        if self.errors:
            return f"Import refusé : {plural(len(self.errors), 'erreur')}, rien n'a été enregistré."
        new, already = len(self.new), self.already
        if new == 0:
            their = "sa saisie est déjà enregistrée" if already < 2 else (
                f"ses {plural(already, 'saisie')} sont déjà enregistrées")
            return f"Ce fichier a déjà été importé : {their}, rien n'a été ajouté."
        if self.dry_run:
            text = plural(new, "saisie sera ajoutée", "saisies seront ajoutées")
        else:
            text = plural(new, "saisie ajoutée")
        if already:
            text += f" ; {plural(already, 'déjà importée, ignorée', 'déjà importées, ignorées')}"
        return text + "."
