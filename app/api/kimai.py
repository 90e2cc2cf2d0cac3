"""``POST /api/v1/timesheets``: Kimai's timesheet fields, so that a Kimai script needs only a new
URL and token.

Kimai's names and units: ``begin`` and ``end`` (ISO date-times), ``duration`` in seconds (used
when ``end`` is absent), ``project`` and ``customer`` (the member: our id, its code or its
name, or a customer name mapped at a Kimai import), ``activity`` (our activity id or name; its
service is the entry's), ``description`` (the note). Kimai's other fields (``tags``, ``user``,
``billable``, rates...) are accepted and ignored. The entry is a draft of the token's user,
through the same use case as every other (``timesheets.services.create_entry``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import select

from accounting.org import Member, Service
from app.api import access
from app.api.problems import ApiProblem
from app.api.schemas import Blueprint, StrictSchema, Text
from app.api.work import refusals
from app.database import get_db
from app.params import MAX_ID
from imports.tabular import normalize_header
from imports.timesheets import KIMAI
from timesheets import services as ts
from timesheets.models import Activity, ImportMapping, MappingKind

blp = Blueprint(
    "api_kimai", __name__, url_prefix="/api/v1",
    description="Compatibilité Kimai : envoi d'un temps avec les champs de l'API de Kimai.",
)

#: Longest span of one timesheet (Kimai's begin → end), in seconds.
MAX_SECONDS = ts.DAY_LIMIT_MINUTES * 60


class IdOrName(fields.Field):
    """Our id (an integer) or a name (a string), as Kimai scripts send either."""

    def __init__(self, **kwargs: Any) -> None:
        one_of = [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "minLength": 1, "maxLength": 200},
        ]
        super().__init__(metadata={"oneOf": one_of, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ma.ValidationError("Identifiant (entier) ou nom (texte) attendu.")
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise ma.ValidationError(f"Identifiant attendu entre 1 et {MAX_ID}.")
        if isinstance(value, str) and not 1 <= len(value.strip()) <= 200:
            raise ma.ValidationError("Nom attendu (1 à 200 caractères).")
        return value


class KimaiTimesheetSchema(StrictSchema):
    begin = fields.NaiveDateTime(required=True, metadata={"description": "Début (ISO 8601)"})
    end = fields.NaiveDateTime(allow_none=True, load_default=None)
    duration = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, MAX_SECONDS),
        metadata={"description": "Durée en secondes (comme Kimai), quand end est absent"},
    )
    project = IdOrName(allow_none=True, load_default=None,
                       metadata={"description": "L'adhérent : id, code ou nom"})
    customer = IdOrName(allow_none=True, load_default=None,
                        metadata={"description": "L'adhérent (prioritaire sur project)"})
    activity = IdOrName(required=True, metadata={"description": "L'activité : id ou nom"})
    description = Text(allow_none=True, load_default=None)
    # Kimai fields accepted and ignored.
    tags = fields.Raw(allow_none=True, metadata={"description": "Ignoré"})
    user = fields.Raw(allow_none=True, metadata={"description": "Ignoré : l'utilisateur du jeton"})
    billable = fields.Raw(allow_none=True, metadata={"description": "Ignoré"})
    exported = fields.Raw(allow_none=True, metadata={"description": "Ignoré"})
    fixedRate = fields.Raw(allow_none=True, metadata={"description": "Ignoré"})
    hourlyRate = fields.Raw(allow_none=True, metadata={"description": "Ignoré"})


class KimaiResultSchema(StrictSchema):
    id = fields.Integer(required=True)
    begin = fields.NaiveDateTime(required=True)
    end = fields.NaiveDateTime(required=True)
    duration = fields.Integer(required=True, metadata={"description": "Secondes"})
    minutes = fields.Integer(required=True)
    project = fields.Integer(required=True, metadata={"description": "Id de l'adhérent"})
    customer = fields.Integer(required=True, metadata={"description": "Id de l'adhérent"})
    activity = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    description = fields.String(required=True)
    user = fields.Integer(required=True)
    warnings = fields.List(fields.String(), required=True)


def _member(value: int | str) -> int:
    db = get_db()
    if isinstance(value, int):
        return value  # checked by the use case (unknown, scope, membership dates)
    text = value.strip()
    found = db.scalars(select(Member.id).where(Member.code == text.upper())).first()
    if found is not None:
        return found
    wanted = normalize_header(text)
    for member_id, name in db.execute(select(Member.id, Member.name)):
        if normalize_header(name) == wanted:
            return member_id
    mapped = db.scalars(select(ImportMapping.target_id).where(
        ImportMapping.source == KIMAI, ImportMapping.kind == MappingKind.CUSTOMER.value,
        ImportMapping.external == text)).first()
    if mapped is not None:
        return mapped
    raise ApiProblem(422, f"Adhérent inconnu : « {text[:60]} » (id, code ou nom attendu).",
                     errors=[{"field": "project", "message": "Adhérent inconnu."}])


def _activity(value: int | str) -> Activity:
    db = get_db()
    if isinstance(value, int):
        found = db.get(Activity, value)
    else:
        wanted = normalize_header(value)
        matches = [a for a in db.scalars(select(Activity).join(Service).where(
            Activity.active.is_(True), Service.active.is_(True)))
            if normalize_header(a.name) == wanted]
        if len(matches) > 1:
            raise ApiProblem(422, f"Activité « {value[:60]} » ambiguë : plusieurs services "
                             "l'ont ; envoyez son id.",
                             errors=[{"field": "activity", "message": "Activité ambiguë."}])
        found = matches[0] if matches else None
    if found is None:
        raise ApiProblem(422, "Activité inconnue.",
                         errors=[{"field": "activity", "message": "Activité inconnue."}])
    return found


def _seconds(body: dict[str, Any]) -> int:
    if body["end"] is not None:
        seconds = int((body["end"] - body["begin"]).total_seconds())
        if seconds <= 0:
            raise ApiProblem(422, "La fin doit être après le début.",
                             errors=[{"field": "end", "message": "Fin avant le début."}])
        if seconds > MAX_SECONDS:
            raise ApiProblem(422, "Un temps ne peut pas dépasser 24 h.",
                             errors=[{"field": "end", "message": "Plus de 24 h."}])
        return seconds
    if body["duration"] is None:
        raise ApiProblem(422, "Indiquez end ou duration.",
                         errors=[{"field": "end", "message": "end ou duration requis."}])
    return int(body["duration"])


@blp.route("/timesheets", methods=["POST"])
@access.allow(*access.WORK_LOGGERS)
@blp.arguments(KimaiTimesheetSchema)
@blp.response(201, KimaiResultSchema)
def kimai_timesheet(body: dict[str, Any]) -> dict[str, Any]:
    """Enregistre un temps envoyé avec les champs de Kimai (brouillon de l'utilisateur)."""
    reference = body["customer"] if body["customer"] is not None else body["project"]
    if reference is None:
        raise ApiProblem(422, "Indiquez l'adhérent dans project ou customer.",
                         errors=[{"field": "project", "message": "Champ obligatoire manquant."}])
    seconds = _seconds(body)
    minutes = round(seconds / 60)
    if minutes < 1:
        raise ApiProblem(422, "La durée doit être d'au moins une minute.",
                         errors=[{"field": "duration", "message": "Moins d'une minute."}])
    member_id = _member(reference)
    activity = _activity(body["activity"])
    begin: datetime = body["begin"]
    data = ts.EntryData(
        day=begin.date(), service_id=activity.service_id, minutes=minutes, member_id=member_id,
        activity_id=activity.id, note=(body["description"] or "")[:2000],
    )
    db = get_db()
    with refusals():
        saved = ts.create_entry(db, access.user(), data)
    db.commit()
    entry = saved.entries[0]
    from datetime import timedelta

    return {
        "id": entry.id, "begin": begin, "end": begin + timedelta(seconds=seconds),
        "duration": seconds, "minutes": minutes, "project": member_id, "customer": member_id,
        "activity": activity.id, "service_id": activity.service_id, "description": entry.note,
        "user": entry.staff_id, "warnings": saved.warnings,
    }
