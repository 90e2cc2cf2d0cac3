"""Use cases of the admin screens: members, figures, services, users, the audit log.

Each function takes the session and plain values already parsed by the form, changes the
models through the ORM (so the audit hook records every change), flushes, and raises
:class:`AdminError` with a French message when a rule refuses the change. Views commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from accounting.addresses import expand_address
from accounting.audit import AuditEvent, record_audit
from accounting.db import Base
from accounting.org import Carrier, Member, MemberFigures, Role, Service, User
from imports.figures import FIGURE_FIELDS, apply_figure_values
from imports.members import apply_member_values


class AdminError(ValueError):
    """A change the rules refuse (French message, shown as is)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------------------ members

#: French names of the tables that may hold a member's records (others show their own name).
RECORD_LABELS = {
    "member_figures": "chiffres annuels",
    "work_entries": "saisies de temps",
    "users": "utilisateurs rattachés",
    "carriers": "structure porteuse",
    "invoices": "factures",
    "allocation_lines": "lignes de répartition",
    "journal_lines": "lignes d'écritures",
    "payments": "paiements",
}


def member_records(session: Session, member_id: int) -> list[str]:
    """The kinds of records that refer to a member (every foreign key to members.id)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [
            fk.parent
            for fk in table.foreign_keys
            if fk.column.table.name == "members" and fk.column.name == "id"
        ]
        if any(session.scalar(select(exists().where(c == member_id))) for c in columns):
            found.append(RECORD_LABELS.get(table.name, table.name))
    return found


def _check_member_unique(
    session: Session, member: Member | None, values: Mapping[str, Any]
) -> None:
    own_id = member.id if member else None
    code = values.get("code")
    if code is not None and member is None:
        taken = session.scalar(select(Member.id).where(Member.code == code))
        if taken is not None:
            raise AdminError(f"Le code « {code} » est déjà utilisé par un autre adhérent.", "code")
    siret = values.get("siret")
    if siret:
        other = session.scalars(
            select(Member).where(Member.siret == siret, Member.id != own_id)
        ).first()
        if other is not None:
            raise AdminError(f"Ce SIRET est déjà celui de l'adhérent {other.code}.", "siret")


def save_member(session: Session, member: Member | None, values: Mapping[str, Any]) -> Member:
    """Create a member (``member`` None) or change the fields that differ. The code of an
    existing member never changes: it names the member in the ledger (411 + code)."""
    values = dict(values)
    if member is not None:
        values.pop("code", None)
    _check_member_unique(session, member, values)
    if member is None:
        apply_member_values(session, None, values)
        session.flush()
        return session.scalars(select(Member).where(Member.code == values["code"])).one()
    apply_member_values(session, member, values)
    session.flush()
    return member


def delete_member(session: Session, member: Member) -> None:
    """Delete a member entered by mistake; one with any record is refused (it leaves instead)."""
    records = member_records(session, member.id)
    if records:
        raise AdminError(
            f"L'adhérent {member.code} a des enregistrements ({', '.join(records)}) : il ne "
            "peut pas être supprimé. Renseignez sa date de sortie."
        )
    session.delete(member)
    session.flush()


def save_figures(session: Session, member: Member, year: int, values: Mapping[str, Any]) -> str:
    """Create or update a member's figures of one year; returns created/updated/unchanged."""
    figures = session.scalars(
        select(MemberFigures).where(
            MemberFigures.member_id == member.id, MemberFigures.year == year
        )
    ).one_or_none()
    outcome = apply_figure_values(session, figures, member.id, year, values)
    session.flush()
    return outcome


class FiguresRow(NamedTuple):
    """One member's line of the figures page: plain values, not the member's and figures'
    ORM objects (2 000 of them, a fifth of the page's time at 1 000 members)."""

    member_id: int
    code: str
    name: str
    #: The figures in the order of ``imports.figures.FIGURE_FIELDS`` (None: not entered).
    values: tuple[Decimal | int | None, ...]

    @property
    def missing(self) -> list[str]:
        return [name for name, value in zip(FIGURE_FIELDS, self.values, strict=True)
                if value is None]


def figures_of_year(session: Session, year: int) -> list[FiguresRow]:
    """Every member active during ``year`` with its figures of that year (None: not entered)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(
        select(Member.id, Member.code, Member.name,
               *(getattr(MemberFigures, name) for name in FIGURE_FIELDS))
        .outerjoin(
            MemberFigures, and_(MemberFigures.member_id == Member.id, MemberFigures.year == year)
        )
        .where(Member.joined_on <= end, (Member.left_on.is_(None)) | (Member.left_on >= start))
        .order_by(Member.code)
    )
    return [FiguresRow(member_id, code, name, tuple(values))
            for member_id, code, name, *values in rows]


# ------------------------------------------------------------------------------ carrier


def the_carrier(session: Session) -> Carrier | None:
    return session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).one_or_none()


def save_carrier(session: Session, values: Mapping[str, Any]) -> Carrier:
    siren, siret = values.get("siren"), values.get("siret")
    if siren and siret and siret[:9] != siren:
        raise AdminError(f"Le SIRET {siret} ne commence pas par le SIREN {siren}.", "siret")
    member_id = values.get("member_id")
    if member_id is not None and session.get(Member, member_id) is None:
        raise AdminError("Adhérent inconnu.", "member")
    values = expand_address(dict(values))
    carrier = the_carrier(session)
    if carrier is None:
        carrier = Carrier(**values)
        session.add(carrier)
    else:
        for key, value in values.items():
            if getattr(carrier, key) != value:
                setattr(carrier, key, value)
    session.flush()
    return carrier


# ------------------------------------------------------------------------------ services


def save_service(session: Session, service: Service | None, values: Mapping[str, Any]) -> Service:
    values = dict(values)
    if service is None:
        code = values["code"]
        if session.scalar(select(Service.id).where(Service.code == code)) is not None:
            raise AdminError(f"Le code « {code} » est déjà utilisé par un autre service.", "code")
        service = Service(**values)
        session.add(service)
    else:
        values.pop("code", None)
        for key, value in values.items():
            if getattr(service, key) != value:
                setattr(service, key, value)
    session.flush()
    return service


# ------------------------------------------------------------------------------ users


def save_user(
    session: Session,
    user: User | None,
    *,
    actor: User,
    email: str,
    name: str,
    roles: set[Role],
    member_id: int | None,
    active: bool,
    password: str | None,
    gender: str | None = None,
) -> User:
    """Create or change a user. A member accountant needs a member; nobody else has one (they
    see every member anyway). An admin cannot remove their own admin role nor deactivate
    themselves (the cluster would lose its last way in)."""
    if not roles:
        raise AdminError("Choisissez au moins un rôle.", "roles")
    if Role.MEMBER_ACCOUNTANT in roles:
        if member_id is None:
            raise AdminError("Un comptable d'adhérent doit être rattaché à un adhérent.", "member")
        if session.get(Member, member_id) is None:
            raise AdminError("Adhérent inconnu.", "member")
    else:
        member_id = None
    other = session.scalars(
        select(User).where(
            func.lower(User.email) == email.lower(), User.id != (user.id if user else -1)
        )
    ).first()
    if other is not None:
        raise AdminError("Cette adresse e-mail est déjà celle d'un autre utilisateur.", "email")
    if user is not None and user.id == actor.id:
        if Role.ADMIN not in roles:
            raise AdminError(
                "Vous ne pouvez pas retirer votre propre rôle d'administrateur.", "roles"
            )
        if not active:
            raise AdminError("Vous ne pouvez pas désactiver votre propre compte.", "active")
    if user is None:
        if not password:
            raise AdminError("Choisissez un mot de passe initial.", "password")
        user = User(email=email.lower(), name=name, roles="")
        session.add(user)
    else:
        if user.email != email.lower():
            user.email = email.lower()
        if user.name != name:
            user.name = name
    if user.role_set != frozenset(roles):
        user.role_set = roles
    if user.member_id != member_id:
        user.member_id = member_id
    if user.active != active:
        user.active = active
    if gender not in (None, "female", "male"):
        raise AdminError("Civilité inconnue : choisissez Madame, Monsieur ou rien.", "gender")
    if user.gender != gender:
        user.gender = gender
    session.flush()
    if password:
        user.set_password(password)
        user.failed_logins = 0
        user.locked_until = None
        session.flush()
        record_audit(session, "password_reset", "users", user.id)
        session.flush()
    return user


# ------------------------------------------------------------------------------ audit log


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    object_type: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None
    object_id: str = ""

    def query(self) -> Select[tuple[AuditEvent]]:
        query = select(AuditEvent)
        if self.actor:
            query = query.where(AuditEvent.actor_label == self.actor)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        if self.start:
            query = query.where(AuditEvent.at >= datetime.combine(self.start, time(0), tzinfo=UTC))
        if self.end:
            after = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC)
            query = query.where(AuditEvent.at < after)
        return query

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (French names, as in the form)."""
        pairs = {
            "auteur": self.actor,
            "objet": self.object_type,
            "action": self.action,
            "du": self.start.isoformat() if self.start else "",
            "au": self.end.isoformat() if self.end else "",
            "id": self.object_id,
        }
        return {k: v for k, v in pairs.items() if v}


def audit_page(
    session: Session, audit_filter: AuditFilter, page: int, size: int
) -> tuple[list[AuditEvent], int]:
    """One page of the filtered log, newest first, and the number of matching events."""
    query = audit_filter.query()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.id.desc()).offset((page - 1) * size).limit(size)
    ).all()
    return list(rows), total


def audit_choices(session: Session) -> dict[str, list[str]]:
    """The values the filters offer (distinct actors, object types, actions)."""
    return {name: [value for value in session.scalars(query) if value]
            for name, query in _audit_choice_statements().items()}  # fmt: skip


@cache
def _audit_choice_statements() -> dict[str, Select[Any]]:
    """Built once: the audit log's page asks for them on every view."""
    return {
        name: select(column).distinct().order_by(column).limit(500)
        for name, column in (("actors", AuditEvent.actor_label),
                             ("object_types", AuditEvent.object_type),
                             ("actions", AuditEvent.action))
    }  # fmt: skip
