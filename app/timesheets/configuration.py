"""The timesheets keys of each ``services[]`` item of the configuration file::

    services:
      - code: COMPTA
        activities: [Tenue comptable, Paie, Déclaration de TVA, Clôture]
        unit_types:
          - {name: Écriture, weight: 1}
          - {name: Bulletin de paie, weight: 5}

Listed activities and unit types are created or updated; those not listed are deactivated
(never deleted: old entries keep them). See :mod:`timesheets.settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from accounting.money import plain_decimal as plain_decimal  # re-exported for the routes
from accounting.org import Service
from app.configuration import ConfigError, child, refuse, register_service_section
from timesheets.settings import SettingsError, apply_service_config, service_config


def _validate_activities(path: str, value: Any) -> list[ConfigError]:
    if not isinstance(value, list):
        return [ConfigError(path, "une liste de noms d'activités est attendue")]
    errors = []
    seen: set[str] = set()
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            errors.append(ConfigError(child(path, index), "un nom d'activité est attendu"))
        elif name.strip().casefold() in seen:
            errors.append(ConfigError(child(path, index), f"« {name} » est en double"))
        else:
            seen.add(name.strip().casefold())
    return errors


def _validate_unit_types(path: str, value: Any) -> list[ConfigError]:
    if not isinstance(value, list):
        return [ConfigError(path, "une liste de {name, weight} est attendue")]
    errors = []
    for index, item in enumerate(value):
        where = child(path, index)
        if not isinstance(item, Mapping):
            errors.append(ConfigError(where, "{name, weight} est attendu"))
            continue
        name, weight = item.get("name"), item.get("weight")
        if not isinstance(name, str) or not name.strip():
            errors.append(ConfigError(child(where, "name"), "un nom est attendu"))
        try:
            number = Decimal(str(weight))
            if not number.is_finite() or number <= 0:
                raise ValueError
        except (ValueError, ArithmeticError):
            errors.append(ConfigError(child(where, "weight"), "un poids positif est attendu"))
    return errors


def _apply(key: str) -> Any:
    def apply(session: Session, service: Service, value: Any) -> None:
        try:
            apply_service_config(session, service.id, {key: value})
        except SettingsError as error:
            refuse(f"services[{service.code}].{key}", str(error))

    return apply


def _export(key: str) -> Any:
    def export(session: Session, service: Service) -> Any:
        return service_config(session, service.id)[key] or None

    return export


register_service_section(
    "activities",
    validate=_validate_activities,
    apply=_apply("activities"),
    export=_export("activities"),
)
register_service_section(
    "unit_types",
    validate=_validate_unit_types,
    apply=_apply("unit_types"),
    export=_export("unit_types"),
)
