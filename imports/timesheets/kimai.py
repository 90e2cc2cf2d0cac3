"""Kimai's timesheet exports (CSV and XLSX, every version since 1.x, English, German or French
headers), and the saved mapping of Kimai's customers, projects, activities and users."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Member, Service, User
from imports.errors import ImportRefused, InvalidValue, RowError
from imports.parsing import parse_date, parse_duration
from imports.tabular import ColumnMap, Row, Table, map_columns, normalize_header
from imports.timesheets.lines import Lines, getter, memo, parse_cell
from imports.timesheets.references import KIMAI, References
from imports.timesheets.report import ACTIVITY_SEPARATOR, Candidate
from timesheets.models import Activity, ImportMapping, MappingKind

NAME = KIMAI
LABEL = "export Kimai"

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
    {normalize_header(n) for n in ("date", "Datum")},
    {normalize_header(n) for n in ("customer", "Kunde", "Client")},
    {normalize_header(n) for n in ("project", "Projekt", "Projet")},
)
#: Kimai prefixes a description that could start a formula with "' " (sanitizeDDE).
_DDE_PREFIX = "' "


def matches(names: set[str]) -> bool:
    """Kimai's export has a date, a customer and a project column (in English, German or
    French); the other trackers' exports, which have them too, are tried first."""
    return all(names & marker for marker in _KIMAI_MARKERS)


def _columns(table: Table) -> ColumnMap:
    """Kimai's columns in ``table``; refused without a user or a duration column."""
    cols = map_columns(
        table.header,
        KIMAI_COLUMNS,
        optional=KIMAI_OPTIONAL,
        allow_unknown=True,
        header_line=table.header_line,
    )
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
    return cols


def parse(table: Table, refs: References, out: Lines) -> list[Candidate]:
    """Kimai's export, line by line; the totals row of legacy exports is skipped."""
    return read_columns(table, refs, out, _columns(table))


def read_columns(table: Table, refs: References, out: Lines, cols: ColumnMap) -> list[Candidate]:
    """The lines of a time tracker's export whose columns are mapped to Kimai's canonical
    names (date, duration or begin/end, email/user/alias, customer, project, activity,
    description): Kimai's reader, shared by the other trackers' formats (:mod:`.trackers`)."""
    label = cols.label
    staff_column = next((n for n in ("email", "user", "alias") if n in cols), "user")
    out.labels = {
        "date": label("date"),
        "staff": label(staff_column),
        "member": label("customer"),
        "service": label("project"),
        "duration": label("duration"),
    }
    reader = _KimaiLines(refs, out, cols)
    result: list[Candidate] = []
    for row in table.rows:
        candidate = reader.read(row)
        if candidate is not None:
            result.append(candidate)
    return result


class _KimaiLines:
    """Reads one line of a Kimai export; errors and unmapped names go to ``out``."""

    def __init__(self, refs: References, out: Lines, cols: ColumnMap) -> None:
        self.refs = refs
        self.out = out
        self.cols = cols
        self.label = cols.label
        self.get = getter(cols)
        self.legacy = "exported" in cols
        self.span_labels = (self.label("begin"), self.label("end"), self.label("duration"))
        self.date_of = memo(parse_date, min_year=2000)
        self.minutes_of = memo(parse_duration)

    def read(self, row: Row) -> Candidate | None:
        """The line's candidate, or None (an error, an unmapped name, or the totals row)."""
        out, get, label, line = self.out, self.get, self.label, row.line
        date_text, customer, project = get(row, "date"), get(row, "customer"), get(row, "project")
        if not date_text and not customer and not project:
            return None  # the totals row of legacy CSV and XLSX exports
        count = len(out.errors)
        day = parse_cell(out, line, label("date"), self.date_of, date_text)
        minutes = self._minutes(row, line)
        staff_id = _kimai_user(out, self.refs, line, self.cols, get, row)
        member_id, customer_mapped = self._customer(line, customer)
        service_id, project_mapped = self._project(line, project)
        activity_id, activity_mapped = self._activity(line, project, service_id, row)
        note = get(row, "description")
        if note.startswith(_DDE_PREFIX):
            note = note[len(_DDE_PREFIX) :]
        if (
            customer_mapped
            and project_mapped
            and activity_mapped
            and len(out.errors) == count
            and day is not None
            and staff_id is not None
            and service_id is not None
        ):
            return Candidate(
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
        return None

    def _minutes(self, row: Row, line: int) -> int:
        duration_text = self.get(row, "duration")
        if duration_text:
            try:
                return _kimai_minutes(duration_text, self.legacy, self.minutes_of)
            except InvalidValue as error:
                self.out.errors.append(error.at(line, self.label("duration")))
                return 0
        begin, end = self.get(row, "begin"), self.get(row, "end")
        return _kimai_span(self.out, line, self.span_labels, begin, end) or 0

    def _customer(self, line: int, customer: str) -> tuple[int | None, bool]:
        """The member (None: common work) and whether the customer is known."""
        refs = self.refs
        if not customer:
            self.out.error(line, self.label("customer"), "Client manquant.")
            return None, True
        key = (MappingKind.CUSTOMER.value, customer)
        if key in refs.mappings:
            return refs.mappings[key], True
        member = refs.members_by_code.get(customer.upper()) or refs.members_by_name.get(
            normalize_header(customer)
        )
        if member is None:
            self.out.unmapped_name(MappingKind.CUSTOMER, customer, line)
            return None, False
        return member.id, True

    def _project(self, line: int, project: str) -> tuple[int | None, bool]:
        """The service and whether the project is known."""
        refs = self.refs
        if not project:
            self.out.error(line, self.label("project"), "Projet manquant.")
            return None, True
        service_id = refs.mappings.get((MappingKind.PROJECT.value, project))
        if service_id is None:
            service_id = refs.services_by_code.get(project.upper()) or refs.services_by_name.get(
                normalize_header(project)
            )
        if service_id is None:
            self.out.unmapped_name(MappingKind.PROJECT, project, line)
            return None, False
        return service_id, True

    def _activity(
        self, line: int, project: str, service_id: int | None, row: Row
    ) -> tuple[int | None, bool]:
        """The activity (of the project's service) and whether it is known."""
        activity_text = self.get(row, "activity")
        if not activity_text or service_id is None:
            return None, True
        refs = self.refs
        external = f"{project}{ACTIVITY_SEPARATOR}{activity_text}"
        activity_id = refs.mappings.get((MappingKind.ACTIVITY.value, external))
        if activity_id is None:
            found = refs.activities.get((service_id, normalize_header(activity_text)))
            activity_id = found[0] if found else None
        if activity_id is None:
            self.out.unmapped_name(MappingKind.ACTIVITY, external, line)
            return None, False
        if refs.activity_services.get(activity_id) != service_id:
            self.out.error(
                line,
                self.label("activity"),
                f"L'activité associée à « {activity_text} » n'appartient pas au service du "
                f"projet « {project} ».",
            )
        return activity_id, True


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
    out: Lines, line: int, labels: tuple[str, str, str], begin: str, end: str
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


def _kimai_user(
    out: Lines,
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
        out.error(line, cols.label("user"), "Utilisateur manquant.")
        return None
    key = (MappingKind.USER.value, name)
    if key in refs.mappings:
        return refs.mappings[key]
    found_id = refs.users_by_name.get(normalize_header(name))
    if found_id is None:
        out.unmapped_name(MappingKind.USER, name, line)
    return found_id


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
