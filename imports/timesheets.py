"""Importing work entries: our own template (CSV or XLSX, English or French headers) and Kimai's
timesheet exports (CSV and XLSX, every version since 1.x), with a saved mapping of Kimai's
customers, projects, activities and users.

Design: :func:`analyse` reads the file (:mod:`imports.tabular`), recognises the format by its
header, parses every cell, resolves every reference against references loaded once, applies the
rules of the timesheets domain (closed periods, member's dates, member accountant's scope, 24 h
a day refused and 12 h warned, counting what the database already holds) and returns an
:class:`ImportReport` holding every error and warning — nothing is written. :func:`import_file`
runs it and, only when there is no error, inserts the new entries in one bulk statement and
writes one audit event. The caller commits.

Idempotency: each line gets a fingerprint (``import_key``) from its resolved content and its
rank among identical lines of the file; lines whose fingerprint is already stored are skipped,
so importing the same file twice adds nothing, and an export that overlaps an earlier one adds
only the new lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from accounting.audit import record_audit
from accounting.db import transaction_lock, utcnow
from accounting.org import Member, Role, Service, User
from accounting.periods import Period, PeriodStatus, hold_periods
from imports.errors import ImportRefused, InvalidValue, RowError
from imports.parsing import parse_date, parse_decimal, parse_duration
from imports.tabular import (
    DEFAULT_MAX_BYTES,
    ColumnMap,
    Row,
    Table,
    map_columns,
    normalize_header,
    read_table,
)
from timesheets.models import (
    Activity,
    EntryStatus,
    ImportMapping,
    MappingKind,
    UnitType,
    WorkEntry,
)
from timesheets.services import (
    DAY_LIMIT_MINUTES,
    DAY_WARNING_MINUTES,
    member_scope,
    staff_day_minutes,
)

KIMAI = "kimai"
TEMPLATE = "template"

#: Our template: canonical name -> accepted headers (English names are the canonical ones).
TEMPLATE_COLUMNS: dict[str, list[str]] = {
    "date": ["Date", "Jour"],
    "staff": ["Intervenant", "Intervenante", "Salarié", "email", "E-mail", "Courriel"],
    "member": ["Adhérent", "Member code", "Code adhérent", "Membre"],
    "service": ["Service", "Service code", "Code service"],
    "duration": ["Durée", "Temps"],
    "activity": ["Activité"],
    "unit_type": ["Unité", "Unit", "Unité d'œuvre", "Type d'unité"],
    "units": ["Quantité", "Quantity", "Nombre"],
    "note": ["Commentaire", "Note", "Description"],
}
TEMPLATE_OPTIONAL = ("activity", "unit_type", "units", "note")
#: Headers of the downloadable template, in order (French, as users see them).
TEMPLATE_HEADERS_FR = [
    "Date",
    "Intervenant",
    "Adhérent",
    "Service",
    "Durée",
    "Activité",
    "Unité",
    "Quantité",
    "Commentaire",
]
TEMPLATE_HEADERS_EN = [
    "date",
    "staff",
    "member",
    "service",
    "duration",
    "activity",
    "unit type",
    "units",
    "note",
]

#: Kimai's export, in English, German and French (see shared/samples/timesheets/README.md).
KIMAI_COLUMNS: dict[str, list[str]] = {
    "date": ["Datum"],
    "begin": ["From", "Von", "De"],
    "end": ["To", "Bis", "À"],
    "duration": ["Dauer", "Durée"],
    "alias": ["Name", "Nom"],
    "user": ["Benutzer", "Nom d'utilisateur", "Identifiant"],
    "email": ["E-mail", "E-Mail", "Courriel"],
    "customer": ["Kunde", "Client"],
    "project": ["Projekt", "Projet"],
    "activity": ["Tätigkeit", "Activité"],
    "description": ["Beschreibung"],
    "exported": ["Exportiert", "Exporté"],
}
KIMAI_OPTIONAL = (
    "begin",
    "end",
    "duration",
    "alias",
    "user",
    "email",
    "activity",
    "description",
    "exported",
)
_KIMAI_MARKERS = (
    {normalize_header(n) for n in ("customer", "Kunde", "Client")},
    {normalize_header(n) for n in ("project", "Projekt", "Projet")},
)
#: Kimai prefixes a description that could start a formula with "' " (sanitizeDDE).
_DDE_PREFIX = "' "

_KIND_LABELS = {
    MappingKind.CUSTOMER: ("Client Kimai", "un adhérent ou au travail commun"),
    MappingKind.PROJECT: ("Projet Kimai", "un service"),
    MappingKind.ACTIVITY: ("Activité Kimai", "une activité du service"),
    MappingKind.USER: ("Utilisateur Kimai", "un intervenant"),
}
ACTIVITY_SEPARATOR = "\x1f"


# ---------------------------------------------------------------- results


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
    format: str = TEMPLATE
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

    @property
    def format_label(self) -> str:
        return "export Kimai" if self.format == KIMAI else "modèle Mutualise"

    def summary(self) -> str:
        """One French sentence for the user."""
        if self.errors:
            return f"Import refusé : {len(self.errors)} erreur(s), rien n'a été enregistré."
        new, already = len(self.new), self.already
        if new == 0:
            return (
                f"Ce fichier a déjà été importé : ses {already} saisie(s) sont déjà "
                "enregistrées, rien n'a été ajouté."
            )
        verb = "seront ajoutées" if self.dry_run else "ajoutées"
        text = f"{new} saisie(s) {verb}"
        if already:
            text += f" ; {already} déjà importée(s), ignorée(s)"
        return text + "."


# ---------------------------------------------------------------- references


@dataclass(slots=True)
class _Member:
    id: int
    code: str
    name: str
    joined_on: date
    left_on: date | None


class References:
    """Everything a line may refer to, loaded once per import (a few thousand rows at most)."""

    def __init__(self, session: Session) -> None:
        users = session.execute(select(User.id, User.email, User.name, User.active)).all()
        self.users_by_email = {
            email.lower(): (uid, name, active) for uid, email, name, active in users
        }
        self.users_by_name: dict[str, int] = {}
        for uid, email, name, _active in users:
            self.users_by_name.setdefault(normalize_header(name), uid)
            self.users_by_name.setdefault(normalize_header(email.split("@")[0]), uid)
        self.user_names = {uid: name for uid, _e, name, _a in users}
        members = [
            _Member(*row)
            for row in session.execute(
                select(Member.id, Member.code, Member.name, Member.joined_on, Member.left_on)
            )
        ]
        self.members = {m.id: m for m in members}
        self.members_by_code = {m.code.upper(): m for m in members}
        self.members_by_name = {normalize_header(m.name): m for m in members}
        services = session.execute(
            select(Service.id, Service.code, Service.name, Service.active)
        ).all()
        self.services = {sid: (code, name, active) for sid, code, name, active in services}
        self.services_by_code = {code.upper(): sid for sid, code, _n, _a in services}
        self.services_by_name = {normalize_header(name): sid for sid, _c, name, _a in services}
        self.activities = {
            (service_id, normalize_header(name)): (aid, active)
            for aid, service_id, name, active in session.execute(
                select(Activity.id, Activity.service_id, Activity.name, Activity.active)
            )
        }
        self.activity_services = {aid: sid for (sid, _n), (aid, _a) in self.activities.items()}
        self.unit_types = {
            (service_id, normalize_header(name)): (uid, active)
            for uid, service_id, name, active in session.execute(
                select(UnitType.id, UnitType.service_id, UnitType.name, UnitType.active)
            )
        }
        hold_periods(session)  # no period closes until this import commits or rolls back
        self.closed = [
            (start, end)
            for start, end in session.execute(
                select(Period.start, Period.end).where(Period.status == PeriodStatus.CLOSED.value)
            )
        ]
        self.mappings: dict[tuple[str, str], int | None] = {
            (kind, external): target
            for kind, external, target in session.execute(
                select(ImportMapping.kind, ImportMapping.external, ImportMapping.target_id).where(
                    ImportMapping.source == KIMAI
                )
            )
        }

    def closed_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.closed)

    # Resolvers of the template's cells: (id, None) or (id or None, the French reason).

    def template_staff(self, text: str) -> tuple[int | None, str | None]:
        if not text:
            return None, "Intervenant manquant (son adresse e-mail)."
        found = self.users_by_email.get(text.lower())
        if found is None:
            return None, (
                f"Intervenant inconnu « {text} » (adresse e-mail d'un utilisateur attendue)."
            )
        if not found[2]:
            return found[0], f"L'intervenant « {text} » est désactivé."
        return found[0], None

    def template_member(self, text: str) -> tuple[int | None, str | None]:
        if not text:
            return None, None
        member = self.members_by_code.get(text.upper())
        if member is None:
            return None, (
                f"Adhérent inconnu « {text} » (code adhérent attendu, vide pour le travail commun)."
            )
        return member.id, None

    def template_service(self, text: str) -> tuple[int | None, str | None]:
        if not text:
            return None, "Service manquant."
        found = self.services_by_code.get(text.upper()) or self.services_by_name.get(
            normalize_header(text)
        )
        if found is None:
            return None, f"Service inconnu « {text} »."
        return found, None

    def template_activity(self, key: tuple[int | None, str]) -> tuple[int | None, str | None]:
        """``key``: the line's service (None when it is unknown) and the activity's name."""
        service_id, text = key
        if not text or service_id is None:
            return None, None
        found = self.activities.get((service_id, normalize_header(text)))
        if found is None:
            return None, (
                f"Activité inconnue « {text} » pour le service « {self.services[service_id][1]} »."
            )
        if not found[1]:
            return found[0], f"L'activité « {text} » est désactivée."
        return found[0], None


# ---------------------------------------------------------------- reading


def detect_format(header: Iterable[str]) -> str:
    """``"kimai"`` when the header has Kimai's customer and project columns, else template."""
    names = {normalize_header(title) for title in header}
    if all(names & marker for marker in _KIMAI_MARKERS):
        return KIMAI
    return TEMPLATE


def _memo(parser: Callable[..., Any], **kwargs: Any) -> Callable[[str], Any]:
    """``parser`` with its results (and errors) remembered: dates and durations repeat a lot."""
    cache: dict[str, Any] = {}

    def parse(text: str) -> Any:
        try:
            result = cache[text]
        except KeyError:
            try:
                result = parser(text, **kwargs)
            except InvalidValue as error:
                result = error
            cache[text] = result
        if isinstance(result, InvalidValue):
            raise result
        return result

    return parse


class _Lines:
    """Collects errors and warnings, and the lines of each unmapped Kimai name."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.unmapped: dict[tuple[MappingKind, str], list[int]] = {}
        #: Headers of the file for the rules checked after parsing (date, staff, member...).
        self.labels: dict[str, str] = {}

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def unmapped_name(self, kind: MappingKind, external: str, line: int) -> None:
        self.unmapped.setdefault((kind, external), []).append(line)


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:5])
    if len(lines) > 5:
        shown += f" et {len(lines) - 5} autre(s)"
    return ("ligne " if len(lines) == 1 else "lignes ") + shown


def _parse_template(table: Table, refs: References, out: _Lines) -> list[Candidate]:
    """Our template, read column by column: each distinct text of a column (a date, an e-mail,
    a member code...) is parsed and resolved once, then every line picks its result. A file of
    100 000 lines has a few thousand distinct cells, so the per-line work is a few lookups."""
    cols = map_columns(
        table.header, TEMPLATE_COLUMNS, optional=TEMPLATE_OPTIONAL, header_line=table.header_line
    )
    label = cols.label
    out.labels = {name: label(name) for name in ("date", "staff", "member", "service", "duration")}
    rows = table.rows
    text = {name: _column_texts(rows, cols.get(name)) for name in TEMPLATE_COLUMNS}
    days = _resolved(text["date"], _parsed(parse_date, min_year=2000))
    staff = _resolved(text["staff"], refs.template_staff)
    members = _resolved(text["member"], refs.template_member)
    services = _resolved(text["service"], refs.template_service)
    activities = _resolved(
        [(service[0], name) for service, name in zip(services, text["activity"], strict=True)],
        refs.template_activity,
    )
    minutes_of = _parsed(parse_duration)
    durations: dict[str, tuple[Any, str | None]] = {}
    quantity_of = _memo(parse_decimal, max_places=3, allow_negative=False)
    unit_texts, units_texts, notes = text["unit_type"], text["units"], text["note"]
    columns = [
        (label("date"), days),
        (label("staff"), staff),
        (label("member"), members),
        (label("service"), services),
        (label("activity"), activities),
    ]
    unit_columns = (label("unit_type"), label("units"))
    duration_label = label("duration")
    result: list[Candidate] = []
    for index, row in enumerate(rows):
        line = row.line
        bad = False
        for column, resolved in columns:
            message = resolved[index][1]
            if message is not None:
                out.error(line, column, message)
                bad = True
        unit_type_id = quantity = None
        if unit_texts[index] or units_texts[index]:
            count = len(out.errors)
            unit_type_id, quantity = _units(
                out,
                refs,
                line,
                unit_columns,
                services[index][0],
                unit_texts[index],
                units_texts[index],
                quantity_of,
            )
            bad = bad or len(out.errors) > count
        duration_text = text["duration"][index]
        minutes = 0
        if duration_text or unit_type_id is None:
            parsed = durations.get(duration_text)
            if parsed is None:
                parsed = durations[duration_text] = minutes_of(duration_text)
            minutes, message = parsed
            if message is not None:
                out.error(line, duration_label, message)
                bad = True
        if not bad:
            result.append(
                Candidate(
                    line,
                    days[index][0],
                    staff[index][0],
                    members[index][0],
                    services[index][0],
                    activities[index][0],
                    unit_type_id,
                    quantity,
                    minutes,
                    notes[index],
                )
            )
    return result


#: What a resolver gives for one distinct text: the value, or None and the French reason.
Resolved = tuple[Any, str | None]


def _column_texts(rows: list[Row], index: int | None) -> list[str]:
    """The cells of one column ("" everywhere when the file has no such column)."""
    if index is None:
        return [""] * len(rows)
    return [row.values[index] for row in rows]


def _resolved(values: list[Any], resolve: Callable[[Any], Resolved]) -> list[Resolved]:
    """``resolve`` applied to each distinct value once, its result given to every line."""
    cache: dict[Any, Resolved] = {}
    result: list[Resolved] = []
    append = result.append
    for value in values:
        found = cache.get(value)
        if found is None:
            found = cache[value] = resolve(value)
        append(found)
    return result


def _parsed(parser: Callable[..., Any], **kwargs: Any) -> Callable[[str], Resolved]:
    """A parser of :mod:`imports.parsing` as a resolver (its InvalidValue becomes the reason)."""

    def resolve(text: str) -> Resolved:
        try:
            return parser(text, **kwargs), None
        except InvalidValue as error:
            return None, error.message

    return resolve


def _getter(cols: ColumnMap) -> Callable[[Row, str], str]:
    indexes = dict(cols)

    def get(row: Row, name: str) -> str:
        index = indexes.get(name)
        return "" if index is None else row.values[index]

    return get


def _cell(out: _Lines, line: int, column: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except InvalidValue as error:
        out.errors.append(error.at(line, column))
        return None


def _units(
    out: _Lines,
    refs: References,
    line: int,
    columns: tuple[str, str],
    service_id: int | None,
    unit_text: str,
    units_text: str,
    quantity_of: Callable[[str], Decimal],
) -> tuple[int | None, Decimal | None]:
    if not unit_text and not units_text:
        return None, None
    if not unit_text:
        out.error(line, columns[0], "Quantité sans unité d'œuvre : indiquez l'unité.")
        return None, None
    if not units_text:
        out.error(line, columns[1], "Unité d'œuvre sans quantité : indiquez la quantité.")
        return None, None
    quantity = _cell(out, line, columns[1], quantity_of, units_text)
    if quantity is not None and quantity == 0:
        out.error(line, columns[1], "La quantité doit être supérieure à zéro.")
    if service_id is None:
        return None, quantity
    found = refs.unit_types.get((service_id, normalize_header(unit_text)))
    if found is None:
        out.error(
            line,
            columns[0],
            f"Unité d'œuvre inconnue « {unit_text} » pour le service « "
            f"{refs.services[service_id][1]} ».",
        )
        return None, quantity
    if not found[1]:
        out.error(line, columns[0], f"L'unité d'œuvre « {unit_text} » est désactivée.")
    return found[0], quantity


def _kimai_minutes(text: str, legacy: bool, minutes_of: Callable[[str], int]) -> int:
    """Kimai durations: ``h:mm``, ``h:mm:ss``, decimal hours, or integer seconds (legacy)."""
    if legacy and text.isdigit():
        seconds = int(text)
        return minutes_of(f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}")
    return minutes_of(text)


_CLOCK_TIME = re.compile(r"(?:\d{4}-\d{2}-\d{2}[T ])?(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _clock_seconds(text: str) -> int | None:
    """Seconds since midnight of Kimai's From / To (``H:i``, also ``H:i:s``, or after a date)."""
    match = _CLOCK_TIME.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _kimai_span(
    out: _Lines, line: int, labels: tuple[str, str, str], begin: str, end: str
) -> int | None:
    """Minutes from From to To, for a line whose duration is empty. Kimai has no end date: a
    To before the From is on the next day (``22:09`` → ``06:09`` is 8 h). None after an
    error (recorded with its column)."""
    begin_label, end_label, duration_label = labels
    if not begin or not end:
        out.error(
            line,
            duration_label,
            "Durée manquante, et pas d'heures de début et de fin pour la calculer.",
        )
        return None
    start, stop = _clock_seconds(begin), _clock_seconds(end)
    for value, text, column in ((start, begin, begin_label), (stop, end, end_label)):
        if value is None:
            out.error(line, column, f"Heure illisible « {text} » (format attendu 09:30).")
    if start is None or stop is None:
        return None
    seconds = (stop - start) % 86400
    minutes, rest = divmod(seconds, 60)
    minutes += 1 if rest >= 30 else 0
    if minutes == 0:
        out.error(line, end_label, f"La durée doit être supérieure à zéro (de {begin} à {end}).")
        return None
    return minutes


def _parse_kimai(table: Table, refs: References, out: _Lines) -> list[Candidate]:
    cols = map_columns(
        table.header,
        KIMAI_COLUMNS,
        optional=KIMAI_OPTIONAL,
        allow_unknown=True,
        header_line=table.header_line,
    )
    label = cols.label
    if not {"email", "user", "alias"} & set(cols):
        raise ImportRefused(
            RowError(
                table.header_line,
                None,
                "Export Kimai sans colonne d'utilisateur (E-mail, User ou Name).",
            )
        )
    if "duration" not in cols and not {"begin", "end"} <= set(cols):
        raise ImportRefused(
            RowError(
                table.header_line,
                None,
                "Export Kimai sans colonne de durée (Duration) ni d'heures de début et de fin "
                "(From, To).",
            )
        )
    span_labels = (label("begin"), label("end"), label("duration"))
    legacy = "exported" in cols
    staff_column = next((n for n in ("email", "user", "alias") if n in cols), "user")
    out.labels = {
        "date": label("date"),
        "staff": label(staff_column),
        "member": label("customer"),
        "service": label("project"),
        "duration": label("duration"),
    }
    get = _getter(cols)
    date_of = _memo(parse_date, min_year=2000)
    minutes_of = _memo(parse_duration)
    result: list[Candidate] = []
    for row in table.rows:
        line = row.line
        date_text, customer, project = get(row, "date"), get(row, "customer"), get(row, "project")
        if not date_text and not customer and not project:
            continue  # the totals row of legacy CSV and XLSX exports
        count = len(out.errors)
        day = _cell(out, line, label("date"), date_of, date_text)
        duration_text = get(row, "duration")
        if duration_text:
            try:
                minutes = _kimai_minutes(duration_text, legacy, minutes_of)
            except InvalidValue as error:
                out.errors.append(error.at(line, label("duration")))
                minutes = 0
        else:
            minutes = _kimai_span(out, line, span_labels, get(row, "begin"), get(row, "end")) or 0
        staff_id = _kimai_user(out, refs, line, cols, get, row)
        member_id = None
        mapped = True
        if customer in ("",):
            out.error(line, label("customer"), "Client Kimai manquant.")
        else:
            key = (MappingKind.CUSTOMER.value, customer)
            if key in refs.mappings:
                member_id = refs.mappings[key]
            else:
                member = refs.members_by_code.get(customer.upper()) or refs.members_by_name.get(
                    normalize_header(customer)
                )
                if member is None:
                    out.unmapped_name(MappingKind.CUSTOMER, customer, line)
                    mapped = False
                else:
                    member_id = member.id
        service_id = None
        if not project:
            out.error(line, label("project"), "Projet Kimai manquant.")
        else:
            service_id = refs.mappings.get((MappingKind.PROJECT.value, project))
            if service_id is None:
                service_id = refs.services_by_code.get(
                    project.upper()
                ) or refs.services_by_name.get(normalize_header(project))
            if service_id is None:
                out.unmapped_name(MappingKind.PROJECT, project, line)
                mapped = False
        activity_text = get(row, "activity")
        activity_id = None
        if activity_text and service_id is not None:
            external = f"{project}{ACTIVITY_SEPARATOR}{activity_text}"
            activity_id = refs.mappings.get((MappingKind.ACTIVITY.value, external))
            if activity_id is None:
                found = refs.activities.get((service_id, normalize_header(activity_text)))
                activity_id = found[0] if found else None
            if activity_id is None:
                out.unmapped_name(MappingKind.ACTIVITY, external, line)
                mapped = False
            elif refs.activity_services.get(activity_id) != service_id:
                out.error(
                    line,
                    label("activity"),
                    f"L'activité associée à « {activity_text} » n'appartient pas au service du "
                    f"projet « {project} ».",
                )
        note = get(row, "description")
        if note.startswith(_DDE_PREFIX):
            note = note[len(_DDE_PREFIX) :]
        if (
            mapped
            and len(out.errors) == count
            and day is not None
            and staff_id is not None
            and service_id is not None
        ):
            result.append(
                Candidate(
                    line,
                    day,
                    staff_id,
                    member_id,
                    service_id,
                    activity_id,
                    None,
                    None,
                    minutes,
                    note,
                )
            )
    return result


def _kimai_user(
    out: _Lines,
    refs: References,
    line: int,
    cols: ColumnMap,
    get: Callable[[Row, str], str],
    row: Row,
) -> int | None:
    email = get(row, "email")
    if email:
        found = refs.users_by_email.get(email.lower())
        if found is None:
            out.error(
                line,
                cols.label("email"),
                f"Intervenant inconnu « {email} » (aucun utilisateur avec cette adresse).",
            )
            return None
        if not found[2]:
            out.error(line, cols.label("email"), f"L'intervenant « {email} » est désactivé.")
        return found[0]
    name = get(row, "user") or get(row, "alias")
    if not name:
        out.error(line, cols.label("user"), "Utilisateur Kimai manquant.")
        return None
    key = (MappingKind.USER.value, name)
    if key in refs.mappings:
        return refs.mappings[key]
    found_id = refs.users_by_name.get(normalize_header(name))
    if found_id is None:
        out.unmapped_name(MappingKind.USER, name, line)
    return found_id


# ---------------------------------------------------------------- domain rules


def _check_rules(
    session: Session, actor: User, refs: References, candidates: list[Candidate], out: _Lines
) -> None:
    """Closed periods, members' dates, the actor's scope and rights, 24 h / 12 h a day.

    Set-wise: each distinct day, member and service is checked once, and the minutes already
    stored for every (staff, day) of the file come from one query."""
    scope = member_scope(actor)
    is_admin = actor.has_role(Role.ADMIN)
    actor_id = actor.id
    date_label, staff_label, member_label = (
        out.label("date"),
        out.label("staff"),
        out.label("member"),
    )
    closed_days = (
        {d for d in {c.day for c in candidates} if refs.closed_on(d)} if refs.closed else set()
    )
    inactive_services = {sid for sid, (_code, _name, active) in refs.services.items() if not active}
    for c in candidates:
        if c.day in closed_days:
            out.error(
                c.line,
                date_label,
                f"Le {c.day:%d/%m/%Y} est dans une période clôturée : lecture seule.",
            )
        if not is_admin and c.staff_id != actor_id:
            out.error(
                c.line,
                staff_label,
                "Vous ne pouvez importer que vos propres temps (seule la coordination importe "
                "pour les autres).",
            )
        if scope is not None and c.member_id != scope:
            out.error(
                c.line,
                member_label,
                "Un comptable d'adhérent n'importe que le travail fait pour son adhérent.",
            )
        if c.member_id is not None:
            member = refs.members[c.member_id]
            if c.day < member.joined_on:
                out.error(
                    c.line,
                    member_label,
                    f"{member.name} ({member.code}) n'était pas encore adhérent le "
                    f"{c.day:%d/%m/%Y}.",
                )
            elif member.left_on is not None and c.day > member.left_on:
                out.error(
                    c.line,
                    member_label,
                    f"{member.name} ({member.code}) n'était plus adhérent le {c.day:%d/%m/%Y} "
                    f"(départ le {member.left_on:%d/%m/%Y}).",
                )
        if c.service_id in inactive_services:
            name = refs.services[c.service_id][1]
            out.error(c.line, out.label("service"), f"Le service « {name} » est désactivé.")

    added: dict[tuple[int, date], int] = defaultdict(int)
    for c in candidates:
        if not c.already:
            added[(c.staff_id, c.day)] += c.minutes
    stored = staff_day_minutes(session, added)
    over = [
        (key, total)
        for key, minutes in added.items()
        if (total := stored.get(key, 0) + minutes) > DAY_WARNING_MINUTES
    ]
    if not over:
        return
    lines: dict[tuple[int, date], list[int]] = {key: [] for key, _total in over}
    for c in candidates:
        if not c.already and (c.staff_id, c.day) in lines:
            lines[(c.staff_id, c.day)].append(c.line)
    for (staff_id, day), total in sorted(over, key=lambda item: (item[0][1], item[0][0])):
        where = _lines_text(lines[(staff_id, day)])
        first = lines[(staff_id, day)][0]
        who = refs.user_names.get(staff_id, "")
        if total > DAY_LIMIT_MINUTES:
            out.error(
                first,
                out.label("duration"),
                f"Plus de 24 h le {day:%d/%m/%Y} pour {who} ({_hours(total)} au total avec "
                f"ce qui est déjà saisi ; {where}) : refusé.",
            )
        else:
            out.warnings.append(
                RowError(
                    first,
                    out.label("duration"),
                    f"Attention : {_hours(total)} le {day:%d/%m/%Y} pour {who} (plus de 12 "
                    f"h ; {where}).",
                )
            )


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


#: Fingerprints looked up per query (well under SQLite's and PostgreSQL's parameter limits).
_KEYS_PER_QUERY = 5000


def _fingerprints(session: Session, candidates: list[Candidate]) -> None:
    """Give each candidate its import key and mark those already stored.

    The key is the SHA-256 of the resolved content and the rank of the line among identical
    lines of the file; its text must never change (files imported earlier are recognised by
    it), so the f-string below reproduces the original ``"|".join(str(part) ...)`` exactly."""
    seen: dict[str, int] = defaultdict(int)
    sha256 = hashlib.sha256
    for c in candidates:
        content = (
            f"{c.staff_id}|{c.day.isoformat()}|{c.member_id}|{c.service_id}|{c.activity_id}|"
            f"{c.unit_type_id}|{c.quantity}|{c.minutes}|{c.note}"
        )
        rank = seen[content]
        seen[content] = rank + 1
        c.import_key = sha256(f"{content}#{rank}".encode()).hexdigest()
    keys = [c.import_key for c in candidates]
    stored: set[str] = set()
    query = select(WorkEntry.import_key).where(
        WorkEntry.import_key.in_(bindparam("keys", expanding=True))
    )
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        stored.update(session.scalars(query, {"keys": keys[start : start + _KEYS_PER_QUERY]}))
    if stored:
        for c in candidates:
            c.already = c.import_key in stored


# ---------------------------------------------------------------- entry points


def analyse(
    session: Session,
    actor: User,
    data: bytes | Table,
    filename: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ImportReport:
    """Read and check a timesheet file; writes nothing. File-level problems (unreadable,
    empty, too large, wrong columns) become the report's errors too."""
    report = ImportReport(filename=filename)
    try:
        table = data if isinstance(data, Table) else read_table(data, filename, max_bytes=max_bytes)
        report.rows = len(table.rows)
        report.format = detect_format(table.header)
        refs = References(session)
        out = _Lines()
        if report.format == KIMAI:
            candidates = _parse_kimai(table, refs, out)
        else:
            candidates = _parse_template(table, refs, out)
    except ImportRefused as refused:
        report.errors = list(refused.errors)
        return report
    for (kind, external), lines in out.unmapped.items():
        what, target = _KIND_LABELS[kind]
        item = Unmapped(kind, external, lines)
        report.unmapped.append(item)
        out.error(
            lines[0],
            None,
            f"{what} « {item.shown} » non associé à {target} ({_lines_text(lines)}) : "
            "associez-le ci-dessous ou dans l'écran d'import.",
        )
    _fingerprints(session, candidates)
    _check_rules(session, actor, refs, candidates, out)
    report.candidates = candidates
    report.errors = sorted(out.errors, key=RowError.sort_key)
    report.warnings = sorted(out.warnings, key=RowError.sort_key)
    return report


def import_file(
    session: Session,
    actor: User,
    data: bytes | Table,
    filename: str,
    *,
    dry_run: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ImportReport:
    """Check the file and, when it has no error and this is not a dry run, insert its new
    lines (one bulk insert, one audit event). Raises :class:`ImportRefused` with every error
    otherwise. Flushes; the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:work_entries")
    report = analyse(session, actor, data, filename, max_bytes=max_bytes)
    if report.errors:
        raise ImportRefused(report.errors)
    report.dry_run = dry_run
    if dry_run:
        return report
    new = report.new
    if new:
        now = utcnow()
        # Read once: ``actor`` is an ORM object, each attribute read costs a descriptor call.
        actor_id = actor.id
        session.execute(
            insert(WorkEntry.__table__),
            [
                {
                    "staff_id": c.staff_id,
                    "day": c.day,
                    "minutes": c.minutes,
                    "member_id": c.member_id,
                    "service_id": c.service_id,
                    "activity_id": c.activity_id,
                    "unit_type_id": c.unit_type_id,
                    "quantity": c.quantity,
                    "note": c.note,
                    "status": EntryStatus.DRAFT.value,
                    "review_comment": "",
                    "import_key": c.import_key,
                    "created_at": now,
                    "created_by_id": actor_id,
                    "updated_at": now,
                    "updated_by_id": actor_id,
                }
                for c in new
            ],
        )
    report.added = len(new)
    record_audit(
        session,
        "import",
        WorkEntry.__tablename__,
        None,
        after={
            "file": filename,
            "format": report.format,
            "added": report.added,
            "already_imported": report.already,
            "minutes": report.new_minutes,
        },
    )
    session.flush()
    return report


# ---------------------------------------------------------------- mappings and template


def save_mapping(
    session: Session, kind: MappingKind | str, external: str, target_id: int | None
) -> ImportMapping:
    """Remember what a Kimai name stands for (``target_id`` None: a customer that is common
    work). Replaces an earlier mapping of the same name. Flushes."""
    kind = MappingKind(kind)
    if target_id is None and kind != MappingKind.CUSTOMER:
        raise ImportRefused("Choisissez à quoi associer ce nom.")
    model = {
        MappingKind.CUSTOMER: Member,
        MappingKind.PROJECT: Service,
        MappingKind.ACTIVITY: Activity,
        MappingKind.USER: User,
    }[kind]
    if target_id is not None and session.get(model, target_id) is None:
        raise ImportRefused("Élément associé introuvable.")
    if kind == MappingKind.ACTIVITY and target_id is not None:
        project = external.split(ACTIVITY_SEPARATOR, 1)[0]
        activity = session.get(Activity, target_id)
        project_service = session.scalar(
            select(ImportMapping.target_id).where(
                ImportMapping.source == KIMAI,
                ImportMapping.kind == MappingKind.PROJECT.value,
                ImportMapping.external == project,
            )
        )
        if (
            project_service is not None
            and activity is not None
            and activity.service_id != project_service
        ):
            raise ImportRefused("Cette activité n'appartient pas au service associé au projet.")
    mapping = session.scalars(
        select(ImportMapping).where(
            ImportMapping.source == KIMAI,
            ImportMapping.kind == kind.value,
            ImportMapping.external == external,
        )
    ).one_or_none()
    if mapping is None:
        mapping = ImportMapping(source=KIMAI, kind=kind.value, external=external)
        session.add(mapping)
    mapping.target_id = target_id
    session.flush()
    return mapping


_TEMPLATE_EXAMPLES = [
    [
        "2026-03-05",
        "prenom.nom@example.org",
        "A01",
        "COMPTA",
        "1h30",
        "Tenue comptable",
        "",
        "",
        "Saisie des factures",
    ],
    [
        "05/03/2026",
        "prenom.nom@example.org",
        "A01",
        "COMPTA",
        "",
        "Paie",
        "Bulletin de paie",
        "12",
        "",
    ],
    [
        "06/03/2026",
        "prenom.nom@example.org",
        "",
        "DEV",
        "2,5",
        "Étude micro-crèche",
        "",
        "",
        "Travail commun",
    ],
]


def template_csv() -> bytes:
    """The template as a CSV for Excel: ``;``-separated, UTF-8 with BOM, French headers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADERS_FR)
    writer.writerows(_TEMPLATE_EXAMPLES)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


def template_xlsx() -> bytes:
    """The template as a workbook: French headers, example lines, dates as real dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Saisies"
    sheet.append(TEMPLATE_HEADERS_FR)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in _TEMPLATE_EXAMPLES:
        row = list(example)
        row[0] = parse_date(row[0])
        sheet.append(row)
        sheet.cell(sheet.max_row, 1).number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEFGHI", (12, 28, 10, 10, 8, 22, 18, 10, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
