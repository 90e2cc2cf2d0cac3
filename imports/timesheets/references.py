"""Everything a timesheet line may refer to (users, members, services, activities, unit types,
closed periods, saved Kimai mappings), loaded once per import, and the template's resolvers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Member, Service, User
from accounting.periods import Period, PeriodStatus, hold_periods, locked_ranges
from imports.tabular import normalize_header
from timesheets.models import Activity, ImportMapping, UnitType

#: The source of saved mappings (only Kimai's names are mapped so far).
KIMAI = "kimai"


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
        #: invoiced periods (DESIGN §4): refused like closed ones, with the way out
        self.locked = locked_ranges(session)
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
