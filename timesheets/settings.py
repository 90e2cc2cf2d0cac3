"""Each service's activities and unit types (with their weights): edited on screen by the
admin and declared in the configuration file (``services[].activities: [names]``,
``services[].unit_types: [{name, weight}]``).

Invariants: names are unique within a service (case and accents ignored); a weight is a
positive decimal with at most 3 places; an activity or unit type already used by entries is
never deleted, it is deactivated (old entries keep it, new ones cannot use it).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.money import plain_decimal
from timesheets.errors import TimesheetError
from timesheets.models import Activity, UnitType


class SettingsError(TimesheetError):
    """Invalid activity or unit type (French message)."""


def _key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if any(not c.isprintable() for c in name):  # a NUL byte: PostgreSQL refuses it in text
        raise SettingsError("Le nom contient un caractère de contrôle invisible : retirez-le.")
    if not name:
        raise SettingsError("Le nom est obligatoire.")
    if len(name) > 100:
        raise SettingsError("Le nom ne peut pas dépasser 100 caractères.")
    return name


def _weight(value: Any) -> Decimal:
    text = str(value).strip().replace(",", ".").replace(" ", "")
    try:
        weight = Decimal(text)
    except InvalidOperation:
        raise SettingsError(f"Poids illisible « {value} » : un nombre comme 1, 5 ou 0,5.") from None
    if not weight.is_finite() or weight <= 0 or weight > 100000:
        raise SettingsError(f"Le poids doit être un nombre positif (« {value} »).")
    if weight != weight.quantize(Decimal("0.001")):
        raise SettingsError("Le poids a au plus 3 décimales.")
    return weight.quantize(Decimal("0.001"))


def _same_name(
    session: Session, model: Any, service_id: int, name: str, own_id: int | None
) -> None:
    for other_id, other in session.execute(
        select(model.id, model.name).where(model.service_id == service_id)
    ):
        if other_id != own_id and _key(other) == _key(name):
            raise SettingsError(f"« {other} » existe déjà pour ce service.")


def save_activity(
    session: Session,
    service_id: int,
    name: str,
    activity_id: int | None = None,
    *,
    active: bool = True,
) -> Activity:
    """Create (no id) or rename/(de)activate an activity of a service. Flushes."""
    name = _clean_name(name)
    _same_name(session, Activity, service_id, name, activity_id)
    if activity_id is None:
        activity = Activity(service_id=service_id, name=name, active=active)
        session.add(activity)
    else:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.service_id != service_id:
            raise SettingsError("Activité introuvable.")
        activity.name, activity.active = name, active
    session.flush()
    return activity


def save_unit_type(
    session: Session,
    service_id: int,
    name: str,
    weight: Any,
    unit_type_id: int | None = None,
    *,
    active: bool = True,
) -> UnitType:
    """Create (no id) or change a unit type of a service. Flushes."""
    name = _clean_name(name)
    value = _weight(weight)
    _same_name(session, UnitType, service_id, name, unit_type_id)
    if unit_type_id is None:
        unit_type = UnitType(service_id=service_id, name=name, weight=value, active=active)
        session.add(unit_type)
    else:
        unit_type = session.get(UnitType, unit_type_id)
        if unit_type is None or unit_type.service_id != service_id:
            raise SettingsError("Unité d'œuvre introuvable.")
        unit_type.name, unit_type.weight, unit_type.active = name, value, active
    session.flush()
    return unit_type


def apply_service_config(session: Session, service_id: int, config: Mapping[str, Any]) -> None:
    """Make a service's activities and unit types match its configuration entry::

        activities: [Tenue comptable, Paie, Déclaration de TVA, Clôture]
        unit_types: [{name: Écriture, weight: 1}, {name: Bulletin de paie, weight: 5}]

    Listed ones are created or updated (and reactivated); those not listed are deactivated,
    never deleted. A key that is absent leaves that list unchanged.
    """
    if "activities" in config:
        names = config.get("activities") or []
        if not isinstance(names, list):
            raise SettingsError("services[].activities doit être une liste de noms.")
        _sync(session, Activity, service_id, [(str(n), None) for n in names])
    if "unit_types" in config:
        items = config.get("unit_types") or []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise SettingsError("services[].unit_types doit être une liste de {name, weight}.")
        for item in items:
            if "name" not in item or "weight" not in item:
                raise SettingsError("Chaque unité d'œuvre a un nom (name) et un poids (weight).")
        _sync(session, UnitType, service_id, [(str(i["name"]), i["weight"]) for i in items])


def _sync(session: Session, model: Any, service_id: int, wanted: Iterable[tuple[str, Any]]) -> None:
    existing = {
        _key(item.name): item
        for item in session.scalars(select(model).where(model.service_id == service_id))
    }
    kept: set[str] = set()
    for name, weight in wanted:
        name = _clean_name(name)
        key = _key(name)
        if key in kept:
            raise SettingsError(f"« {name} » est listé deux fois pour le même service.")
        kept.add(key)
        item = existing.get(key)
        if model is Activity:
            save_activity(session, service_id, name, item.id if item else None)
        else:
            save_unit_type(session, service_id, name, weight, item.id if item else None)
    for key, item in existing.items():
        if key not in kept and item.active:
            item.active = False
    session.flush()


def service_config(session: Session, service_id: int) -> dict[str, Any]:
    """The configuration entry of a service's active activities and unit types (for export)."""
    return {
        "activities": [
            a.name
            for a in session.scalars(
                select(Activity)
                .where(Activity.service_id == service_id, Activity.active.is_(True))
                .order_by(Activity.id)
            )
        ],
        "unit_types": [
            {"name": u.name, "weight": plain_decimal(u.weight)}
            for u in session.scalars(
                select(UnitType)
                .where(UnitType.service_id == service_id, UnitType.active.is_(True))
                .order_by(UnitType.id)
            )
        ],
    }
