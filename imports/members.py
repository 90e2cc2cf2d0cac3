"""Importing the members of the cluster from a CSV or XLSX file.

Design: the file is read with :mod:`imports.tabular`, every row is checked before anything is
written (:func:`check_members`), then :func:`import_members` creates the members whose code is
new and updates the others, field by field, only where the file differs from the database.

Invariants:
- all-or-nothing: one bad cell refuses the whole file (:class:`~imports.errors.ImportRefused`
  listing every bad row and column), nothing is written;
- idempotent: importing the same file twice creates and changes nothing the second time
  (no field is assigned a value it already has, so the audit hook records nothing);
- a column absent from the file leaves that field of existing members untouched; an empty cell
  clears it (the file is the truth for the columns it has);
- a member is never deleted by an import.

The field parsers (:func:`parse_member_value`) are shared with the configuration file, so a
member is validated the same way whichever door it comes in by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.addresses import expand_address, validate_country, validate_postcode
from accounting.audit import record_audit
from accounting.db import transaction_lock
from accounting.org import Member, OrgError, validate_siret, validate_vat_number
from accounting.wording import plural
from imports.errors import ErrorList, InvalidValue
from imports.parsing import parse_date
from imports.tabular import ColumnMap, Row, Table, map_columns

#: Canonical column -> the headers accepted besides it (English names are always accepted).
MEMBER_COLUMNS: dict[str, list[str]] = {
    "code": ["Code", "Code adhérent"],
    "name": ["Nom", "Raison sociale"],
    "legal_form": ["Forme juridique"],
    "siret": ["SIRET", "N° SIRET"],
    "vat_number": ["N° TVA", "Numéro de TVA", "TVA intracommunautaire"],
    "address": ["Adresse"],
    "postcode": ["Code postal", "CP"],
    "city": ["Ville", "Commune"],
    "country_code": ["Pays", "Code pays"],
    "electronic_address": ["Adresse électronique", "Adresse de facturation électronique"],
    "billing_email": ["Email de facturation", "E-mail de facturation", "Courriel de facturation"],
    "joined_on": ["Date d'adhésion", "Adhésion"],
    "left_on": ["Date de sortie", "Sortie"],
}
REQUIRED_COLUMNS = frozenset({"code", "name", "joined_on"})
#: The fields of a member an import or the configuration file may set.
MEMBER_FIELDS = tuple(MEMBER_COLUMNS)

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
CODE_RULE = "1 à 20 caractères : lettres, chiffres, « - » ou « _ »"


class InvalidMemberValue(InvalidValue):
    """A member field that cannot be stored (French message)."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did; ``changed`` is False when the file was already fully applied."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary_fr(self, noun: str, plural_form: str | None = None, *,
                   feminine: bool = False) -> str:
        """« 3 créés, 1 modifié, 6 inchangés sur 10 adhérents » (or that nothing changed):
        ``noun`` is singular; the participles agree with it (``feminine``) and each count."""
        if not self.changed:
            if self.total < 2:
                return f"Rien à modifier : {plural(self.total, noun)} dans le fichier, déjà à jour."
            return (f"Rien à modifier : les {plural(self.total, noun, plural_form)} du fichier "
                    "sont déjà à jour.")
        e = "e" if feminine else ""
        return (
            f"{plural(self.created, 'créé' + e)}, {plural(self.updated, 'modifié' + e)}, "
            f"{plural(self.unchanged, 'inchangé' + e)} sur "
            f"{plural(self.total, noun, plural_form)}."
        )

    def summary_en(self, noun: str) -> str:
        if not self.changed:
            return f"Nothing to change: the {self.total} {noun} of the file are already up to date."
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.total} {noun})."
        )


def normalize_code(value: object) -> str:
    """A member or service code, upper-cased; refused unless it is 1-20 plain characters."""
    text = "" if value is None else str(value).strip().upper()
    if not text:
        raise InvalidMemberValue("Code manquant.")
    if not CODE_PATTERN.fullmatch(text):
        raise InvalidMemberValue(f"Code « {_cut(text)} » invalide : {CODE_RULE}.")
    return text


def _cut(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def clean_text(value: object, *, limit: int, required: str | None = None) -> str:
    """A stripped text of at most ``limit`` characters; ``required`` is the message when empty.

    A NUL character is refused (PostgreSQL cannot store it, and no one types it)."""
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        raise InvalidMemberValue("Texte refusé : il contient un caractère nul.")
    if not text and required:
        raise InvalidMemberValue(required)
    if len(text) > limit:
        raise InvalidMemberValue(f"Texte trop long : {len(text)} caractères, au plus {limit}.")
    return text


def _optional(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _identifier(validator: Any, value: object) -> str | None:
    text = _optional(value)
    if text is None:
        return None
    try:
        return validator(text)
    except OrgError as exc:
        raise InvalidMemberValue(str(exc)) from None


def parse_email(value: object) -> str | None:
    """An e-mail address (syntax only, no DNS lookup), lower-cased domain; empty -> None."""
    text = _optional(value)
    if text is None:
        return None
    if len(text) > 200:
        raise InvalidMemberValue("Adresse e-mail trop longue (au plus 200 caractères).")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidMemberValue(f"Adresse e-mail invalide : « {_cut(text)} ».") from None


def parse_member_value(field: str, value: object) -> Any:
    """The value to store in ``Member.<field>`` for what a cell (or YAML value) holds.

    Raises :class:`~imports.errors.InvalidValue` with a French message.
    """
    if field == "code":
        return normalize_code(value)
    if field == "name":
        return clean_text(value, limit=200, required="Nom manquant.")
    if field == "legal_form":
        return clean_text(value, limit=100)
    if field == "address":
        return clean_text(value, limit=2000)
    if field in ("postcode", "country_code"):
        check = validate_postcode if field == "postcode" else validate_country
        try:
            return check(_optional(value))
        except ValueError as error:
            raise InvalidMemberValue(str(error)) from None
    if field == "city":
        return clean_text(value, limit=100) or None
    if field == "electronic_address":
        return clean_text(value, limit=120) or None
    if field == "siret":
        return _identifier(validate_siret, value)
    if field == "vat_number":
        return _identifier(validate_vat_number, value)
    if field == "billing_email":
        return parse_email(value)
    if field == "joined_on":
        return parse_date(value)
    if field == "left_on":
        return None if _optional(value) is None else parse_date(value)
    raise KeyError(field)


def membership_problem(joined_on: date | None, left_on: date | None) -> str | None:
    """The French message when the dates of membership are in the wrong order."""
    if joined_on and left_on and left_on < joined_on:
        return (
            f"La date de sortie ({left_on:%d/%m/%Y}) précède la date d'adhésion "
            f"({joined_on:%d/%m/%Y})."
        )
    return None


@dataclass(frozen=True, slots=True)
class MemberRow:
    line: int
    values: dict[str, Any]


def columns_of(table: Table, spec: dict[str, list[str]], required: frozenset[str]) -> ColumnMap:
    """The file's columns matched to ``spec`` (every name outside ``required`` is optional)."""
    return map_columns(
        table.header, spec, optional=set(spec) - required, header_line=table.header_line
    )


def parse_cells(
    errors: ErrorList,
    row: Row,
    columns: ColumnMap,
    fields: Iterable[str],
    parser: Callable[[str, object], Any],
) -> dict[str, Any]:
    """``parser(field, cell)`` for each of ``fields`` the file has; bad cells become errors
    (and are left out of the result)."""
    values: dict[str, Any] = {}
    for field in fields:
        if field not in columns:
            continue
        before = len(errors)
        parsed = errors.parse(row.line, columns.label(field), parser, field, row[columns[field]])
        if len(errors) == before:
            values[field] = parsed
    return values


def note_duplicate(
    seen: dict[Any, int], key: Any, line: int, column: str, message: str, errors: ErrorList
) -> None:
    """Record the first line of ``key``; a later line with the same key is an error."""
    if key in seen:
        errors.add(line, column, f"{message} en double (déjà ligne {seen[key]}).")
    else:
        seen[key] = line


def check_members(session: Session, table: Table) -> list[MemberRow]:
    """Every row of a members file parsed and checked; raises ImportRefused listing all errors."""
    columns = columns_of(table, MEMBER_COLUMNS, REQUIRED_COLUMNS)
    errors = ErrorList()
    rows: list[MemberRow] = []
    first_line_of_code: dict[str, int] = {}
    first_line_of_siret: dict[str, int] = {}
    for row in table:
        values = parse_cells(errors, row, columns, MEMBER_FIELDS, parse_member_value)
        if code := values.get("code"):
            label = columns.label("code")
            note_duplicate(first_line_of_code, code, row.line, label, f"Code « {code} »", errors)
        if siret := values.get("siret"):
            label = columns.label("siret")
            note_duplicate(first_line_of_siret, siret, row.line, label, f"SIRET {siret}", errors)
        rows.append(MemberRow(row.line, values))
    existing = _existing_by_code(session, list(first_line_of_code))
    for member_row in rows:
        values = member_row.values
        member = existing.get(values.get("code", ""))
        joined = values.get("joined_on", member.joined_on if member else None)
        left = values.get("left_on", member.left_on if member else None)
        problem = membership_problem(joined, left)
        if problem:
            errors.add(member_row.line, columns.label("left_on"), problem)
    _check_siret_owners(session, rows, columns.label("siret"), errors)
    errors.raise_if_any()
    return rows


def _existing_by_code(session: Session, codes: list[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for member in session.scalars(select(Member).where(Member.code.in_(chunk))):
            found[member.code] = member
    return found


def _check_siret_owners(
    session: Session, rows: list[MemberRow], label: str, errors: ErrorList
) -> None:
    """A SIRET already held by another member (another code) is refused."""
    wanted = {r.values["siret"]: r for r in rows if r.values.get("siret")}
    if not wanted:
        return
    owners = session.execute(
        select(Member.siret, Member.code).where(Member.siret.in_(list(wanted)))
    ).all()
    for siret, code in owners:
        row = wanted[siret]
        if row.values.get("code") != code:
            errors.add(row.line, label, f"SIRET {siret} déjà utilisé par l'adhérent {code}.")


def apply_member_values(session: Session, member: Member | None, values: Mapping[str, Any]) -> str:
    """Create ``member`` (when None) from ``values`` or set the fields that differ.

    Returns ``"created"``, ``"updated"`` or ``"unchanged"``; never flushes.
    """
    values = expand_address(dict(values))
    if member is None:
        fields = {k: v for k, v in values.items() if k in MEMBER_FIELDS}
        fields.setdefault("legal_form", "")
        fields.setdefault("address", "")
        fields["legal_form"] = fields["legal_form"] or ""
        fields["address"] = fields["address"] or ""
        session.add(Member(**fields))
        return "created"
    changed = False
    for field, value in values.items():
        if field == "code" or field not in MEMBER_FIELDS:
            continue
        if field in ("legal_form", "address") and value is None:
            value = ""
        if getattr(member, field) != value:
            setattr(member, field, value)
            changed = True
    return "updated" if changed else "unchanged"


def import_members(session: Session, table: Table) -> ImportResult:
    """Apply a members file (all-or-nothing); flushes, the caller commits."""
    # One import at a time: the same file sent twice at once is added once.
    transaction_lock(session, "mutualise:import:members")
    rows = check_members(session, table)
    existing = _existing_by_code(session, [r.values["code"] for r in rows])
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for member_row in rows:
        outcome = apply_member_values(
            session, existing.get(member_row.values["code"]), member_row.values
        )
        counts[outcome] += 1
    result = ImportResult(**counts)
    if result.changed:
        session.flush()
        record_audit(
            session,
            "import",
            "members",
            after={"file": table.filename, **counts},
        )
    session.flush()
    return result
