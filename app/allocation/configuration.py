"""The allocation keys of each ``services[]`` item of the configuration file::

    services:
      - code: COMPTA
        keys:
          - {from: 2026-01-01, key: "25% equal + 75% hours", agreed_on: 2025-12-12,
             agreed_by: Réunion mensuelle}

Each listed version is added, or its text and agreement updated, through
:func:`accounting.allocation.runs.set_key` (so the file cannot rewrite a closed or approved
period either); a version identical to the stored one changes nothing, and versions not listed
are left as they are. ``overheads_by`` is a core field of the service (its column).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.allocation.errors import AllocationError, KeySyntaxError
from accounting.allocation.keys import format_key, parse_key
from accounting.allocation.models import AllocationKey
from accounting.allocation.runs import keys_of_service, set_key
from accounting.org import Service
from app.configuration import ConfigError, child, refuse, register_service_section

FIELDS = ("from", "key", "agreed_on", "agreed_by")


def validate(path: str, value: Any) -> list[ConfigError]:
    """Shape, dates and key grammar of every version (no database)."""
    if not isinstance(value, list):
        return [ConfigError(path, "une liste de {from, key, agreed_on, agreed_by} est attendue")]
    errors: list[ConfigError] = []
    seen: set[date] = set()
    for index, item in enumerate(value):
        where = child(path, index)
        if not isinstance(item, Mapping):
            errors.append(ConfigError(where, "{from, key, agreed_on, agreed_by} est attendu"))
            continue
        for name in item:
            if name not in FIELDS:
                errors.append(ConfigError(child(where, name),
                                          f"clé inconnue (clés acceptées : {', '.join(FIELDS)})"))
        start = item.get("from")
        if not isinstance(start, date):
            errors.append(ConfigError(child(where, "from"), "une date AAAA-MM-JJ est attendue"))
        elif start in seen:
            errors.append(ConfigError(child(where, "from"), f"deux clés datées du {start}"))
        else:
            seen.add(start)
        text = item.get("key")
        if not isinstance(text, str) or not text.strip():
            errors.append(ConfigError(child(where, "key"), "le texte de la clé est attendu"))
        else:
            try:
                parse_key(text)
            except KeySyntaxError as error:
                errors.append(ConfigError(
                    child(where, "key"),
                    f"{error.message_fr} (caractère {error.column} de « {text} »)",
                ))
            except AllocationError as error:
                errors.append(ConfigError(child(where, "key"), str(error)))
        agreed_on = item.get("agreed_on")
        if agreed_on is not None and not isinstance(agreed_on, date):
            errors.append(
                ConfigError(child(where, "agreed_on"), "une date AAAA-MM-JJ est attendue")
            )
        agreed_by = item.get("agreed_by")
        if agreed_by is not None and (not isinstance(agreed_by, str) or len(agreed_by) > 200):
            errors.append(ConfigError(child(where, "agreed_by"), "un texte de 200 caractères au "
                                                                 "plus est attendu"))
    return errors


def apply(session: Session, service: Service, value: Any) -> None:
    """Add or update the listed versions; identical ones are left untouched."""
    stored = {k.valid_from: k for k in keys_of_service(session, service.id)}
    for index, item in enumerate(value):
        text = format_key(parse_key(item["key"]))
        agreed_on, agreed_by = item.get("agreed_on"), (item.get("agreed_by") or "").strip()
        current = stored.get(item["from"])
        if current is not None and (current.text, current.agreed_on, current.agreed_by) == (
            text, agreed_on, agreed_by
        ):
            continue
        try:
            set_key(session, service, text, item["from"], agreed_on=agreed_on,
                    agreed_by=agreed_by)
        except AllocationError as error:
            refuse(f"services[{service.code}].keys[{index}]", str(error))


def export(session: Session, service: Service) -> Any:
    versions = session.scalars(
        select(AllocationKey).where(AllocationKey.service_id == service.id)
        .order_by(AllocationKey.valid_from)
    ).all()
    if not versions:
        return None
    result = []
    for key in versions:
        item: dict[str, Any] = {"from": key.valid_from, "key": key.text}
        if key.agreed_on:
            item["agreed_on"] = key.agreed_on
        if key.agreed_by:
            item["agreed_by"] = key.agreed_by
        result.append(item)
    return result


register_service_section("keys", validate=validate, apply=apply, export=export)
